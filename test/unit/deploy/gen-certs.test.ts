// deploy/scripts/gen-certs.sh run for real with openssl in a temp dir: a CA, the collector's server
// certificate for its Service names, one client certificate per node naming that node, tokens, and
// Secrets whose names and keys are the ones the manifests mount.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadTokens } from '../../../collector/serve/auth.js';
import { describeWithDaemons, findBinary } from '../../harness/integration.js';
import { DEPLOY, collectResources, findObject, parseYamlFile, podSpec } from './kustomize.js';

const SCRIPT = join(DEPLOY, 'scripts', 'gen-certs.sh');
const OPENSSL = findBinary('openssl');

function gen(out: string, ...args: string[]) {
  return spawnSync('bash', [SCRIPT, '-o', out, ...args], { encoding: 'utf8', timeout: 60_000 });
}

function x509(file: string, ...opts: string[]): string {
  return execFileSync(OPENSSL!, ['x509', '-in', file, '-noout', ...opts], { encoding: 'utf8' });
}

describeWithDaemons('gen-certs.sh', { openssl: OPENSSL }, () => {
  let dir: string;
  let out: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-gen-certs-'));
    out = join(dir, 'certs');
    const r = gen(out, 'cp-1', 'worker-2.example.com');
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('signs one client certificate per node, naming the node in CN and SAN, for client auth only', () => {
    for (const node of ['cp-1', 'worker-2.example.com']) {
      const crt = join(out, 'nodes', node, 'tls.crt');
      const verify = spawnSync(OPENSSL!, ['verify', '-CAfile', join(out, 'ca', 'ca.crt'), '-purpose', 'sslclient', crt], { encoding: 'utf8' });
      expect(verify.stdout + verify.stderr).toContain(': OK');
      expect(x509(crt, '-subject')).toMatch(new RegExp(`CN ?= ?${node.replace(/\./g, '\\.')}$`, 'm'));
      const ext = x509(crt, '-ext', 'subjectAltName,extendedKeyUsage,basicConstraints');
      expect(ext).toContain(`DNS:${node}`);
      expect(ext).toContain('TLS Web Client Authentication');
      expect(ext).not.toContain('TLS Web Server Authentication');
      expect(ext).toContain('CA:FALSE');
      expect(readFileSync(join(out, 'nodes', node, 'ca.crt'), 'utf8')).toBe(readFileSync(join(out, 'ca', 'ca.crt'), 'utf8'));
    }
  });

  it('gives the collector a server certificate for its in-cluster Service names', () => {
    const crt = join(out, 'collector', 'tls.crt');
    const verify = spawnSync(OPENSSL!, ['verify', '-CAfile', join(out, 'ca', 'ca.crt'), '-purpose', 'sslserver', crt], { encoding: 'utf8' });
    expect(verify.stdout + verify.stderr).toContain(': OK');
    const ext = x509(crt, '-ext', 'subjectAltName');
    for (const name of ['vigil-collector', 'vigil-collector.vigil-system.svc', 'vigil-collector.vigil-system.svc.cluster.local']) {
      expect(ext).toContain(`DNS:${name},`);
    }
    // The agents dial exactly this name (deploy/base/agent-daemonset.yaml --collector).
    const ds = findObject(collectResources(join(DEPLOY, 'base')).map((r) => r.object), 'DaemonSet', 'vigil-agent');
    const collectorArg = podSpec(ds).containers[0].args.find((a: string) => a.startsWith('--collector='));
    expect(ext).toContain(`DNS:${collectorArg.slice('--collector='.length).split(':')[0]},`);
  });

  it('keeps private keys and tokens readable by their owner only', () => {
    for (const f of ['ca/ca.key', 'collector/tls.key', 'nodes/cp-1/tls.key', 'tokens.txt', 'secrets.yaml']) {
      expect(statSync(join(out, f)).mode & 0o077, f).toBe(0);
    }
  });

  it('writes Secrets with the names and keys the collector Deployment mounts', () => {
    const secrets = parseYamlFile(join(out, 'secrets.yaml')).objects;
    const tls = findObject(secrets, 'Secret', 'vigil-collector-tls') as unknown as { data: Record<string, string> };
    expect(Object.keys(tls.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(Buffer.from(tls.data['tls.crt'], 'base64').toString()).toBe(readFileSync(join(out, 'collector', 'tls.crt'), 'utf8'));
    const tokens = findObject(secrets, 'Secret', 'vigil-api-tokens') as unknown as { data: Record<string, string> };
    const text = Buffer.from(tokens.data['tokens.txt'], 'base64').toString();
    // The file the collector will read with --tokens: parsed by the collector's own loader.
    const set = loadTokens(text, 'tokens.txt');
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' '));
    expect(lines.map(([, role]) => role).sort()).toEqual(['read', 'report']);
    for (const [token, role] of lines) {
      expect(token).toMatch(/^[0-9a-f]{64}$/);
      expect([...set.find(token)!.roles]).toEqual([role]);
    }
    expect(new Set(lines.map(([token]) => token)).size).toBe(lines.length);

    const deploy = findObject(collectResources(join(DEPLOY, 'base')).map((r) => r.object), 'Deployment', 'vigil-collector');
    const mounted = podSpec(deploy).volumes.filter((v: { secret?: unknown }) => v.secret).map((v: any) => v.secret.secretName).sort();
    expect(mounted).toEqual(['vigil-api-tokens', 'vigil-collector-tls']);
  });

  it('adds a node on a second run without touching the CA, the other nodes or the tokens', () => {
    const before = ['ca/ca.crt', 'ca/ca.key', 'collector/tls.crt', 'nodes/cp-1/tls.key', 'tokens.txt']
      .map((f) => readFileSync(join(out, f), 'utf8'));
    const r = gen(out, 'cp-1', 'new-node');
    expect(r.status, r.stderr).toBe(0);
    const after = ['ca/ca.crt', 'ca/ca.key', 'collector/tls.crt', 'nodes/cp-1/tls.key', 'tokens.txt']
      .map((f) => readFileSync(join(out, f), 'utf8'));
    expect(after).toEqual(before);
    const verify = spawnSync(OPENSSL!, ['verify', '-CAfile', join(out, 'ca', 'ca.crt'), join(out, 'nodes', 'new-node', 'tls.crt')], { encoding: 'utf8' });
    expect(verify.stdout).toContain(': OK');
  });

  it.each([['../etc'], ['UPPER'], ['a b'], ['-'], ['node/x']])('refuses the node name %j with a clear error', (bad) => {
    const r = gen(join(dir, 'refused'), '--', bad);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`'${bad}' is not a valid Kubernetes name`);
  });

  it('refuses a bad validity and an unknown option', () => {
    expect(gen(join(dir, 'x'), '-d', 'forever', 'n1').stderr).toMatch(/-d must be a number of days/);
    expect(gen(join(dir, 'x'), '--bogus').status).toBe(2);
  });
});
