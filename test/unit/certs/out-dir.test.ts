// `vigil-collector certs ensure --out DIR`, run for real through the built CLI: the files, their modes, a TLS
// handshake with them, idempotence, renewal ahead of expiry, and clear refusals.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueServing, sanSet } from '../../../collector/certs/pki.js';
import { serviceNames } from '../../../collector/certs/command.js';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { findBinary } from '../../harness/integration.js';

const DAY = 86_400_000;
const OPENSSL = findBinary('openssl');
let cli: ReturnType<typeof locateBuiltCli>;
let root: string;

function ensure(...args: string[]) {
  return spawnSync(process.execPath, [cli.cli, 'certs', 'ensure', ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** Completes a TLS handshake against a server using tls.crt/tls.key, trusting only ca.crt; the error code if any. */
async function handshake(dir: string, servername: string): Promise<string> {
  const server = createServer({ cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')) }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername, ca: readFileSync(join(dir, 'ca.crt')) });
      socket.on('secureConnect', () => { socket.destroy(); resolve('ok'); });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  } finally {
    server.close();
  }
}

beforeAll(() => {
  cli = locateBuiltCli('collector/cli.js');
  root = mkdtempSync(join(tmpdir(), 'vigil-certs-out-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  cli.cleanup();
});

describe('certs ensure --out DIR', () => {
  let dir: string;
  beforeAll(() => {
    dir = join(root, 'pki');
    const r = ensure('--out', dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ca: created .*\nserving certificate: created .*\nwrote ca.crt, ca.key, tls.crt, tls.key in /);
  });

  it('writes the CA and a serving certificate, keys readable by the owner only', () => {
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'tls.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'tls.crt')).mode & 0o777).toBe(0o644);
    const cert = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect([...sanSet(cert)].sort()).toEqual([
      'DNS:localhost', 'DNS:vigil-collector', 'DNS:vigil-collector.vigil', 'DNS:vigil-collector.vigil.svc',
      'DNS:vigil-collector.vigil.svc.cluster.local', 'IP:127.0.0.1',
    ]);
    const days = (new Date(cert.validTo).getTime() - Date.now()) / DAY;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThanOrEqual(365);
  });

  it.skipIf(!OPENSSL)('passes openssl verify for TLS server use', () => {
    const v = spawnSync(OPENSSL!, ['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslserver', join(dir, 'tls.crt')], { encoding: 'utf8' });
    expect(v.stdout + v.stderr).toContain(': OK');
  });

  it('serves TLS to a client that trusts ca.crt and dials a Service name; refuses other names', async () => {
    expect(await handshake(dir, 'vigil-collector.vigil.svc')).toBe('ok');
    expect(await handshake(dir, 'vigil-collector.vigil.svc.cluster.local')).toBe('ok');
    expect(await handshake(dir, 'localhost')).toBe('ok');
    expect(await handshake(dir, 'vigil-collector.other.svc')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('changes nothing when run again, and puts a loosened key mode back', () => {
    const before = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'].map((f) => [readFileSync(join(dir, f), 'utf8'), statSync(join(dir, f)).mtimeMs]);
    chmodSync(join(dir, 'tls.key'), 0o644);
    const r = ensure('--out', dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ca: kept[\s\S]*serving certificate: kept[\s\S]*nothing to change in /);
    const after = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'].map((f) => [readFileSync(join(dir, f), 'utf8'), statSync(join(dir, f)).mtimeMs]);
    expect(after).toEqual(before);
    expect(statSync(join(dir, 'tls.key')).mode & 0o777).toBe(0o600);
  });

  it('renews a serving certificate that is close to expiry, under the same CA', () => {
    const ca = { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
    const wanted = {
      commonName: 'vigil-collector.vigil.svc',
      dnsNames: [...serviceNames(['vigil-collector'], 'vigil', 'cluster.local'), 'localhost'],
      ipAddresses: ['127.0.0.1'],
      servingValidityMs: 365 * DAY,
      caValidityMs: 3650 * DAY,
      renewWhenLeft: 1 / 3,
    };
    const old = issueServing(ca, wanted, new Date(Date.now() - 300 * DAY)); // 65 days left
    writeFileSync(join(dir, 'tls.crt'), old.cert);
    writeFileSync(join(dir, 'tls.key'), old.key);
    const r = ensure('--out', dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ca: kept[\s\S]*serving certificate: renewed[\s\S]*because serving certificate: expires on .* renewed ahead of time[\s\S]*wrote tls.crt, tls.key in /);
    expect(readFileSync(join(dir, 'ca.crt'), 'utf8')).toBe(ca.cert);
    const renewed = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    expect(renewed.serialNumber).not.toBe(new X509Certificate(old.cert).serialNumber);
    expect(renewed.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
    expect((new Date(renewed.validTo).getTime() - Date.now()) / DAY).toBeGreaterThan(364);
  });

  it('reissues for other Services, namespace, names and addresses', () => {
    const r = ensure('--out', dir, '--service', 'vigil-collector', '--service', 'vigil-nats', '--namespace', 'security',
      '--cluster-domain', 'k8s.example', '--dns', 'vigil.example.com', '--ip', '10.0.0.7', '--ip', '::1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/serving certificate: renewed[\s\S]*names differ/);
    const sans = sanSet(new X509Certificate(readFileSync(join(dir, 'tls.crt'))));
    for (const n of ['DNS:vigil-collector.security.svc', 'DNS:vigil-nats.security.svc.k8s.example', 'DNS:vigil.example.com', 'IP:10.0.0.7', 'IP:::1']) {
      expect(sans.has(n), n).toBe(true);
    }
    expect(sans.has('DNS:localhost')).toBe(false); // --dns replaces the default extra name
    expect(new X509Certificate(readFileSync(join(dir, 'tls.crt'))).subject).toContain('CN=vigil-collector.security.svc');
  });
});

describe('certs ensure refuses with a clear message', () => {
  it.each([
    [[], /give exactly one of --out DIR and --in-cluster/, 2],
    [['--out', 'x', '--in-cluster'], /give exactly one of --out DIR and --in-cluster/, 2],
    [['--out', 'x', '--ca-file', 'ca.crt', '--nats-user', 'agent'], /--ca-file, --nats-user: only with --in-cluster/, 2],
    [['--out', 'x', '--days', '0'], /expected a whole number of days/, 1],
    [['--out', 'x', '--dns', 'Not_A_Name'], /"Not_A_Name" is not a DNS name/, 1],
    [['--out', 'x', '--ip', '1.2.3'], /"1.2.3" is not an IP address/, 1],
    [['--in-cluster', '--wait-mounted', 'relative'], /--wait-mounted wants SECRET=\/absolute\/dir/, 1],
  ] as const)('%j', (args, message, code) => {
    const r = ensure(...args.map((a) => (a === 'x' ? join(root, 'refused') : a)));
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(code);
  });

  it('outside a pod, --in-cluster says why it cannot work', () => {
    const r = spawnSync(process.execPath, [cli.cli, 'certs', 'ensure', '--in-cluster', '--sa-dir', join(root, 'none')],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not in a pod: KUBERNETES_SERVICE_HOST is not set/);
  });
});
