// `vigil-collector certs ensure --in-cluster`, run through the built CLI with the very arguments of the collector's
// init container in the rendered manifests, against a stand-in API server (no cluster runs here; see
// fake-apiserver.ts) that enforces the rendered Role: what the command does must be what the Role allows.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from 'nats';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { loadTokens } from '../../../collector/serve/auth.js';
import { ensureMaterial, issueServing, makeCa, sanSet, splitPem } from '../../../collector/certs/pki.js';
import { serviceNames } from '../../../collector/certs/command.js';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { describeWithDaemons } from '../../harness/integration.js';
import { DEPLOY, KUBECTL, findObject, kubectlKustomize, kubectlKustomizeWith, podSpec, type K8sObject } from '../deploy/kustomize.js';
import { fakeServiceAccountJwt, startFakeApiServer, type FakeApiServer, type PolicyRule } from './fake-apiserver.js';

const DAY = 86_400_000;
const NS = 'vigil';
const ISSUER = 'https://oidc.example.test/id/ABC123';
const TOKEN = fakeServiceAccountJwt({ iss: ISSUER, sub: `system:serviceaccount:${NS}:vigil-collector`, aud: ['https://kubernetes.default.svc'] });

let cli: ReturnType<typeof locateBuiltCli>;
let root: string;
let saDir: string;
let apiCert: { cert: string; key: string };

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

function run(server: FakeApiServer, args: string[]): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [cli.cli, ...args, '--api-server', server.url, '--sa-dir', saDir], {
    env: { PATH: process.env.PATH ?? '', VIGIL_LOG_LEVEL: 'warn' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

/** The init container's arguments from rendered manifests, minus the waits (tested on their own below). */
function initArgs(objects: K8sObject[]): string[] {
  const init = podSpec(findObject(objects, 'Deployment', 'vigil-collector')).initContainers[0];
  return init.args.filter((a: string) => !a.startsWith('--wait-mounted='));
}
const roleRules = (objects: K8sObject[]): PolicyRule[] => (findObject(objects, 'Role', 'vigil-collector') as unknown as { rules: PolicyRule[] }).rules;
const secretData = (server: FakeApiServer, name: string): Record<string, string> => Object.fromEntries(
  Object.entries((server.get('secrets', NS, name)?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
const configMapData = (server: FakeApiServer, name: string): Record<string, string> => (server.get('configmaps', NS, name)?.data ?? {}) as Record<string, string>;

function issuedBy(cert: string, caBundle: string): boolean {
  const c = new X509Certificate(cert);
  return splitPem(caBundle).some((ca) => { const a = new X509Certificate(ca); return c.checkIssued(a) && c.verify(a.publicKey); });
}

beforeAll(() => {
  cli = locateBuiltCli('collector/cli.js');
  root = mkdtempSync(join(tmpdir(), 'vigil-certs-cluster-'));
  // The API server's own certificate, and the ServiceAccount mount the kubelet would give the pod.
  const m = ensureMaterial({}, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], servingValidityMs: 2 * DAY, caValidityMs: 4 * DAY, renewWhenLeft: 0.1 }, new Date()).material;
  apiCert = m.serving;
  saDir = join(root, 'serviceaccount');
  mkdirSync(saDir);
  writeFileSync(join(saDir, 'token'), TOKEN);
  writeFileSync(join(saDir, 'ca.crt'), m.ca.cert);
  writeFileSync(join(saDir, 'namespace'), NS);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  cli?.cleanup();
});

describeWithDaemons('certs ensure --in-cluster with the manifests\' arguments and Role', { kubectl: KUBECTL }, () => {
  const ha = (): K8sObject[] => kubectlKustomize(join(DEPLOY, 'overlays', 'ha'))!;
  const single = (): K8sObject[] => kubectlKustomize(join(DEPLOY, 'overlays', 'single'))!;
  let server: FakeApiServer;
  afterEach(async () => { await server?.close(); });

  it('first start (ha): makes the CA, the serving certificate, the trust ConfigMap, the read token and the NATS nkeys', async () => {
    const objects = ha();
    server = await startFakeApiServer({ ...apiCert, token: TOKEN, rules: roleRules(objects) });
    const r = await run(server, initArgs(objects));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ca: created\nserving certificate: created\nServiceAccount issuer: https:\/\/oidc\.example\.test\/id\/ABC123\nwrote /);
    expect(server.requests.filter((q) => q.status === 403)).toEqual([]);

    const ca = secretData(server, 'vigil-ca');
    const tls = secretData(server, 'vigil-collector-tls');
    const trust = configMapData(server, 'vigil-trust');
    expect(server.get('secrets', NS, 'vigil-collector-tls')?.type).toBe('kubernetes.io/tls');
    expect(Object.keys(tls).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(issuedBy(tls['tls.crt'], trust['ca.crt'])).toBe(true);
    expect(trust['ca.crt']).toBe(ca['ca.crt']);
    expect(tls['ca.crt']).toBe(ca['ca.crt']);
    const sans = sanSet(new X509Certificate(tls['tls.crt']));
    for (const name of [...serviceNames(['vigil-collector', 'vigil-nats'], NS, 'cluster.local'), 'localhost']) expect(sans.has(`DNS:${name}`), name).toBe(true);
    // The collector's --sa-issuer comes from here: the issuer of its own token.
    expect(trust['sa-issuer']).toBe(ISSUER);
    // NATS: the seeds in Secrets, their public keys (what nats.conf reads) in the trust ConfigMap.
    for (const user of ['agent', 'collector']) {
      const seed = secretData(server, `vigil-nats-${user}`).seed;
      expect(seed).toMatch(/^SU/);
      expect(trust[`nats-${user}-nkey`]).toBe(nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey());
    }
    // The REST token file, read by the collector's own --tokens loader: one read token.
    const tokens = secretData(server, 'vigil-api-tokens')['tokens.txt'];
    const lines = tokens.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(1);
    const [token, roles] = lines[0].split(' ');
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(roles).toBe('read');
    expect([...loadTokens(tokens, 'tokens.txt').find(token)!.roles]).toEqual(['read']);
    for (const name of ['vigil-ca', 'vigil-collector-tls', 'vigil-api-tokens', 'vigil-trust']) {
      const labels = (server.get(name === 'vigil-trust' ? 'configmaps' : 'secrets', NS, name)!.metadata as { labels?: Record<string, string> }).labels;
      expect(labels?.['app.kubernetes.io/part-of']).toBe('vigil');
    }

    // The daily CronJob (same arguments) and every later start change nothing while all is valid.
    const before = [...server.objects.values()].map((o) => o.metadata.resourceVersion);
    const again = await run(server, initArgs(objects));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/ca: kept\nserving certificate: kept\n[\s\S]*nothing to change in namespace vigil/);
    expect([...server.objects.values()].map((o) => o.metadata.resourceVersion)).toEqual(before);
  });

  it('two collectors starting together end with one CA and a certificate it signed', async () => {
    const objects = ha();
    server = await startFakeApiServer({ ...apiCert, token: TOKEN, rules: roleRules(objects), delayMs: 40 });
    const [a, b] = await Promise.all([run(server, initArgs(objects)), run(server, initArgs(objects))]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const ca = secretData(server, 'vigil-ca')['ca.crt'];
    expect(issuedBy(secretData(server, 'vigil-collector-tls')['tls.crt'], ca)).toBe(true);
    expect(configMapData(server, 'vigil-trust')['ca.crt']).toBe(ca);
    expect(secretData(server, 'vigil-collector-tls')['ca.crt']).toBe(ca);
    const seed = secretData(server, 'vigil-nats-agent').seed;
    expect(configMapData(server, 'vigil-trust')['nats-agent-nkey']).toBe(nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey());
  });

  it('renews a serving certificate near its end under the same CA, leaving the CA and the trust ConfigMap alone', async () => {
    const objects = single();
    server = await startFakeApiServer({ ...apiCert, token: TOKEN, rules: roleRules(objects) });
    expect((await run(server, initArgs(objects))).code).toBe(0);
    const ca = secretData(server, 'vigil-ca');
    const caVersion = server.get('secrets', NS, 'vigil-ca')!.metadata.resourceVersion;
    const trustVersion = server.get('configmaps', NS, 'vigil-trust')!.metadata.resourceVersion;
    // Someone's clock jumped: a certificate issued 300 days ago, 65 left of 365.
    const old = issueServing({ cert: ca['ca.crt'], key: ca['ca.key'] }, {
      commonName: 'vigil-collector.vigil.svc', dnsNames: [...serviceNames(['vigil-collector'], NS, 'cluster.local'), 'localhost'],
      ipAddresses: ['127.0.0.1'], servingValidityMs: 365 * DAY, caValidityMs: 3650 * DAY, renewWhenLeft: 1 / 3,
    }, new Date(Date.now() - 300 * DAY));
    const tls = server.get('secrets', NS, 'vigil-collector-tls')!;
    server.put('secrets', NS, { ...tls, data: { ...(tls.data as object), 'tls.crt': Buffer.from(old.cert).toString('base64'), 'tls.key': Buffer.from(old.key).toString('base64') } });

    const r = await run(server, initArgs(objects));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ca: kept\nserving certificate: renewed\n[\s\S]*wrote secret\/vigil-collector-tls in namespace vigil/);
    const renewed = secretData(server, 'vigil-collector-tls')['tls.crt'];
    expect(issuedBy(renewed, ca['ca.crt'])).toBe(true);
    expect((new Date(new X509Certificate(renewed).validTo).getTime() - Date.now()) / DAY).toBeGreaterThan(364);
    expect(server.get('secrets', NS, 'vigil-ca')!.metadata.resourceVersion).toBe(caVersion);
    expect(server.get('configmaps', NS, 'vigil-trust')!.metadata.resourceVersion).toBe(trustVersion);
  });

  it('with the cert-manager component: publishes the mounted CA, and needs no access to the certificate Secrets', async () => {
    const objects = kubectlKustomizeWith([join(DEPLOY, 'overlays', 'single')], [join(DEPLOY, 'components', 'cert-manager')]);
    server = await startFakeApiServer({ ...apiCert, token: TOKEN, rules: roleRules(objects) });
    const caFile = join(root, 'cert-manager-ca.crt');
    writeFileSync(caFile, makeCa(new Date(), 10 * DAY).cert);
    const args = initArgs(objects).map((a) => (a.startsWith('--ca-file=') ? `--ca-file=${caFile}` : a));
    const r = await run(server, args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ca: external\nserving certificate: external\n/);
    expect(server.requests.filter((q) => q.status === 403)).toEqual([]);
    expect(server.requests.some((q) => q.name === 'vigil-ca' || q.name === 'vigil-collector-tls')).toBe(false);
    expect(configMapData(server, 'vigil-trust')['ca.crt']).toBe(readFileSync(caFile, 'utf8'));
    expect(configMapData(server, 'vigil-trust')['sa-issuer']).toBe(ISSUER);
  });

  it('waits until the kubelet shows the new Secrets in the pod\'s volumes, and gives up with a clear error', async () => {
    const objects = single();
    server = await startFakeApiServer({ ...apiCert, token: TOKEN, rules: roleRules(objects) });
    const tlsDir = join(root, 'mounted-tls');
    const tokensDir = join(root, 'mounted-tokens');
    mkdirSync(tlsDir);
    mkdirSync(tokensDir);
    const args = [...initArgs(objects), `--wait-mounted=vigil-collector-tls=${tlsDir}`, `--wait-mounted=vigil-api-tokens=${tokensDir}`];
    // Stand-in for the kubelet: projects the Secrets into the directories 1.5 s after they appear.
    const kubelet = setInterval(() => {
      const tls = server.get('secrets', NS, 'vigil-collector-tls');
      const tokens = server.get('secrets', NS, 'vigil-api-tokens');
      if (!tls || !tokens) return;
      setTimeout(() => {
        for (const [dir, obj] of [[tlsDir, tls], [tokensDir, tokens]] as const) {
          for (const [k, v] of Object.entries(obj.data as Record<string, string>)) writeFileSync(join(dir, k), Buffer.from(v, 'base64'));
        }
      }, 1_500);
      clearInterval(kubelet);
    }, 50);
    const r = await run(server, args);
    clearInterval(kubelet);
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeGreaterThan(1_500);

    const never = join(root, 'never-mounted');
    mkdirSync(never);
    const stuck = await run(server, [...initArgs(objects), `--wait-mounted=vigil-collector-tls=${never}`, '--wait-timeout=2s']);
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toMatch(new RegExp(`${never} still lacks the current (ca.crt|tls.crt|tls.key).* of Secret vigil-collector-tls after 2 s`));
  });

  it('reports what the API server refuses, and does not loop on it', async () => {
    const objects = single();
    const readOnly = roleRules(objects).map((r) => ({ ...r, verbs: r.verbs.filter((v) => v === 'get') })).filter((r) => r.verbs.length);
    server = await startFakeApiServer({ ...apiCert, token: TOKEN, rules: readOnly });
    const r = await run(server, initArgs(objects));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/POST \/api\/v1\/namespaces\/vigil\/secrets: 403 .*forbidden/);
    expect(server.requests.filter((q) => q.verb === 'create')).toHaveLength(1);

    await server.close();
    server = await startFakeApiServer({ ...apiCert, token: 'another-token', rules: roleRules(objects) });
    const unauthorized = await run(server, initArgs(objects));
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(/GET \/api\/v1\/namespaces\/vigil\/secrets\/vigil-ca: 401 Unauthorized/);
  });
});
