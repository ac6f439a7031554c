// What the collector takes from outside to know who speaks, with real processes: the API server's signing keys
// over HTTPS (a test server stands in for kube-apiserver's /openid/v1/jwks: none runs here), NATS with users,
// nkeys, TLS and an agent that may only publish (the collector owns the stream, and refuses a weaker one), and
// its gRPC serving certificate renewed on disk while it runs.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { connect as natsConnect, nkeys, StorageType } from 'nats';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { describeWithDaemons, findBinary, freePort, tempDir } from '../../harness/integration.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { NATS_SERVER, startNats, waitForPort } from '../../harness/nats.js';
import {
  ISSUER, projectedToken, signingKey, startJwksEndpoint, writeJwksFile, type JwksEndpoint, type SigningKey,
} from '../../harness/service-accounts.js';
import { startAgent, startCollector, waitFor, type AgentProcess, type CollectorUnderTest } from '../delivery/processes.js';

const COLLECTOR_CLI = join(import.meta.dirname, '..', '..', '..', 'dist', 'collector', 'cli.js');

const REPORT_BODY = (node: string) => ({
  schemaVersion: 1, node: { name: node, roles: [] }, scannedAt: new Date().toISOString(), findings: [],
  summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 },
});

async function post(c: CollectorUnderTest, node: string, token: string): Promise<number> {
  const res = await fetch(`${c.httpUrl}/api/v1/reports`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(REPORT_BODY(node)),
  });
  return res.status;
}

/** The SHA-256 fingerprint of the certificate a TLS server on 127.0.0.1:port presents now. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(ca), ALPNProtocols: ['h2'] }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

describeWithDaemons('identity: keys, streams and certificates from outside', { 'nats-server': NATS_SERVER, openssl: findBinary('openssl') }, () => {
  let dir: { path: string; cleanup(): void };
  let pki: TestPki;
  let rsa: SigningKey;
  let ec: SigningKey;
  let host: BuiltHost;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];

  beforeAll(async () => {
    dir = tempDir('identity-outside');
    pki = createTestPki(dir.path);
    [rsa, ec] = await Promise.all([signingKey('RS256'), signingKey('ES256')]);
    host = buildHost(kubeadmControlPlane(), join(dir.path, 'host'));
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    host?.cleanup();
    dir?.cleanup();
  });

  it('fetches the signing keys over HTTPS with its own bearer token and CA, and again for a key id it does not know', async () => {
    const collectorToken = join(dir.path, 'collector-sa-token');
    writeFileSync(collectorToken, 'the-collectors-own-token');
    const endpoint: JwksEndpoint = await startJwksEndpoint(pki.server, [rsa], 'the-collectors-own-token');
    cleanups.push(() => endpoint.close());
    const collector = await startCollector({
      dataDir: join(dir.path, 'collector-jwks'), pki,
      serviceAccounts: { issuer: ISSUER, jwksUrl: endpoint.url, jwksCa: pki.ca, jwksTokenFile: collectorToken },
    });
    cleanups.push(() => collector.cleanup());
    expect(await post(collector, 'node-k', (await projectedToken(rsa, { node: 'node-k' })).token)).toBe(200);
    expect(endpoint.requests[0]).toBe('Bearer the-collectors-own-token');
    // The API server rotates: a new ES256 key. A token signed with it names a kid the collector has not seen.
    endpoint.serve([rsa, ec]);
    const rotated = (await projectedToken(ec, { node: 'node-k' })).token;
    await waitFor('the new key fetched', async () => (await post(collector, 'node-k', rotated)) === 200 || undefined, 30_000);
    expect(endpoint.requests.length).toBeGreaterThanOrEqual(2);
    expect(endpoint.requests.every((h) => h === 'Bearer the-collectors-own-token')).toBe(true);
  }, 60_000);

  it('creates the stream itself; agents with a user that may only publish deliver over TLS; nkeys, users, inbox prefix', async () => {
    const port = await freePort();
    const natsDir = join(dir.path, 'nats-auth');
    mkdirSync(natsDir);
    const collectorUser = nkeys.createUser();
    const seedFile = join(dir.path, 'collector.seed');
    writeFileSync(seedFile, new TextDecoder().decode(collectorUser.getSeed()));
    // The deploy's permissions (deploy/overlays/ha/nats/nats.conf), with a password user for the agents here.
    writeFileSync(join(natsDir, 'nats.conf'), `
listen: 127.0.0.1:${port}
jetstream { store_dir: ${join(natsDir, 'js')} }
tls { cert_file: ${pki.server.cert}, key_file: ${pki.server.key}, timeout: 2 }
accounts {
  VIGIL {
    jetstream: enabled
    users: [
      { user: agent, password: agent-secret-pw, permissions: {
          publish: { allow: ["vigil.findings.>"] }, subscribe: { allow: ["_INBOX_vigil_agent.>"] } } }
      { nkey: ${collectorUser.getPublicKey()}, permissions: {
          publish: { allow: ["$JS.API.INFO", "$JS.API.STREAM.CREATE.VIGIL_FINDINGS", "$JS.API.STREAM.UPDATE.VIGIL_FINDINGS",
            "$JS.API.STREAM.INFO.VIGIL_FINDINGS", "$JS.API.CONSUMER.CREATE.VIGIL_FINDINGS", "$JS.API.CONSUMER.CREATE.VIGIL_FINDINGS.>",
            "$JS.API.CONSUMER.DURABLE.CREATE.VIGIL_FINDINGS.*", "$JS.API.CONSUMER.INFO.VIGIL_FINDINGS.*",
            "$JS.API.CONSUMER.MSG.NEXT.VIGIL_FINDINGS.*", "$JS.ACK.VIGIL_FINDINGS.>"] }
          subscribe: { allow: ["_INBOX.>"] } } }
    ]
  }
}
`);
    const server = spawn(NATS_SERVER!, ['-c', join(natsDir, 'nats.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let serverLog = '';
    server.stderr!.on('data', (d: Buffer) => { serverLog += d.toString(); });
    cleanups.push(() => { server.kill('SIGKILL'); });
    await waitForPort(port);

    const key = join(dir.path, 'jwks-nats.json');
    writeJwksFile(key, [rsa]);
    const tokenFile = join(dir.path, 'node-n.token');
    writeFileSync(tokenFile, (await projectedToken(rsa, { node: 'node-n' })).token);
    // The agent first: it finds no stream, and does not make one (it may not, and it does not try).
    const agent: AgentProcess = await startAgent({
      hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-nats'), node: 'node-n', transport: 'nats',
      natsUrl: `tls://127.0.0.1:${port}`, tokenFile,
      extra: ['--nats-user', 'agent', '--nats-password', 'agent-secret-pw', '--nats-tls-ca', pki.ca],
    });
    cleanups.push(() => agent.stop());
    await waitFor('the agent to miss the stream', () => /no stream VIGIL_FINDINGS yet/.test(agent.output()) || undefined, 30_000);
    expect(serverLog).not.toMatch(/Permissions Violation/i);

    const collector = await startCollector({
      dataDir: join(dir.path, 'collector-nats'), pki, natsUrl: `tls://127.0.0.1:${port}`, serviceAccounts: { issuer: ISSUER, jwksFile: key },
      extra: ['--nats-nkey-seed-file', seedFile, '--nats-tls-ca', pki.ca],
    });
    cleanups.push(() => collector.cleanup());
    await waitFor('the agent\'s report through NATS', async () => (await collector.findings('node-n')).length > 0 || undefined, 60_000);
    expect(collector.output()).toMatch(/NATS stream created/);
    expect((await collector.node('node-n'))!.identity).toMatchObject({ kind: 'service-account' });
    // No password reaches a log, and no TLS server name is an IP address (DEP0123).
    for (const out of [agent.output(), collector.output()]) {
      expect(out).not.toContain('agent-secret-pw');
      expect(out).not.toMatch(/DEP0123/);
    }
    expect(serverLog).not.toMatch(/Permissions Violation/i);
  }, 120_000);

  it('refuses to run on a weaker stream someone made before it, saying what is wrong', async () => {
    const nats = await startNats();
    cleanups.push(() => nats.cleanup());
    const nc = await natsConnect({ servers: nats.url });
    await (await nc.jetstreamManager()).streams.add({ name: 'VIGIL_FINDINGS', subjects: ['vigil.findings.>'], storage: StorageType.Memory });
    await nc.close();
    // The collector process itself: it must stop, whatever it had opened before it looked at the stream.
    const proc = spawn(process.execPath, [COLLECTOR_CLI, 'serve', '--data-dir', join(dir.path, 'collector-weak'), '--no-auth',
      '--http-listen', `127.0.0.1:${await freePort()}`, '--nats-url', nats.url], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    expect(code).toBe(2);
    expect(out).toMatch(/VIGIL_FINDINGS exists but keeps less than Vigil needs: storage is memory/);
  }, 60_000);

  it('reloads its gRPC serving certificate when the files change: new connections get the new one, no restart', async () => {
    const certDir = join(dir.path, 'serving');
    mkdirSync(certDir);
    const files = { cert: join(certDir, 'tls.crt'), key: join(certDir, 'tls.key') };
    copyFileSync(pki.server.cert, files.cert);
    copyFileSync(pki.server.key, files.key);
    const keyFile = join(dir.path, 'jwks-certs.json');
    writeJwksFile(keyFile, [rsa]);
    const collector = await startCollector({
      dataDir: join(dir.path, 'collector-certs'), pki: { ...pki, server: files }, serviceAccounts: { issuer: ISSUER, jwksFile: keyFile },
    });
    cleanups.push(() => collector.cleanup());
    const port = Number(collector.grpcAddr.split(':')[1]);
    const before = await servedFingerprint(port, pki.ca);
    const tokenFile = join(dir.path, 'node-t.token');
    writeFileSync(tokenFile, (await projectedToken(rsa, { node: 'node-t' })).token);
    const agent = await startAgent({
      hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-certs'), node: 'node-t', transport: 'grpc',
      collector: collector.grpcAddr, tls: { ca: pki.ca }, tokenFile,
    });
    cleanups.push(() => agent.stop());
    await waitFor('the first report', async () => (await collector.findings('node-t')).length > 0 || undefined, 60_000);

    // certs ensure renews: a new key and certificate under the same CA, written over the old files.
    const renewed = pki.custom('renewed', '/CN=vigil-collector', 'DNS:localhost,IP:127.0.0.1', 'serverAuth');
    copyFileSync(renewed.key, files.key);
    copyFileSync(renewed.cert, files.cert);
    const after = await waitFor('the renewed certificate served', async () => {
      const fp = await servedFingerprint(port, pki.ca);
      return fp !== before ? fp : undefined;
    }, 30_000);
    expect(after).not.toBe(before);
    expect(collector.output()).toMatch(/gRPC TLS certificate reloaded/);
    // The collector never stopped: the agent's stream goes on, and a new agent connects with the new certificate.
    const second = join(dir.path, 'node-t2.token');
    writeFileSync(second, (await projectedToken(rsa, { node: 'node-t2' })).token);
    const next = await startAgent({
      hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-certs-2'), node: 'node-t2', transport: 'grpc',
      collector: collector.grpcAddr, tls: { ca: pki.ca }, tokenFile: second,
    });
    cleanups.push(() => next.stop());
    await waitFor('the report over the new certificate', async () => (await collector.findings('node-t2')).length > 0 || undefined, 60_000);
    expect(agent.output()).not.toMatch(/gRPC stream failed/);
    expect(agent.output()).not.toMatch(/DEP0123/);
  }, 120_000);
});
