// HTTPS on the REST and metrics listener (--http-tls-cert/--http-tls-key), the pair reloaded when its files change.
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeOptions } from '../../../collector/app/options.js';
import { startCollector, type RunningCollector } from '../../../collector/app/start.js';
import { loadTokens } from '../../../collector/serve/auth.js';
import { makeCert, type GeneratedCert } from '../../harness/certs.js';
import { tempDir } from '../../harness/integration.js';

const TOKEN = 'tls-read-token-0123456789abcdef';

function peerCertificate(port: number, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}

function get(url: string, ca: string, path: string, token?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(url + path, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

async function until(what: string, probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('HTTPS on the REST and metrics listener', () => {
  const dir = tempDir('http-tls');
  const certFile = join(dir.path, 'tls.crt');
  const keyFile = join(dir.path, 'tls.key');
  const ca = makeCert({ cn: 'vigil-test-ca', isCA: true });
  const leaf = (cn: string): GeneratedCert => makeCert({ cn, issuer: ca, sans: ['DNS:localhost', 'IP:127.0.0.1'] });
  const install = (cert: GeneratedCert, key = cert): void => {
    writeFileSync(keyFile, key.keyPem);
    writeFileSync(certFile, cert.certPem);
  };
  let c: RunningCollector;
  let port: number;

  beforeAll(async () => {
    install(leaf('collector-1'));
    const raw = { dataDir: join(dir.path, 'data'), httpListen: '127.0.0.1:0', httpTlsCert: certFile, httpTlsKey: keyFile, auth: false,
      retention: '30d', reportInterval: '5m', maxReportSize: '8Mi', correlateInterval: '5s', logLevel: 'silent', sqliteSync: 'NORMAL' };
    const options = { ...resolveServeOptions(raw), tokens: loadTokens(`${TOKEN} read reader\n`) };
    c = await startCollector(options, { log: pino({ level: 'silent' }), tlsReloadMs: 50 });
    port = Number(new URL(c.httpUrl).port);
  });
  afterAll(async () => {
    await c?.close();
    dir.cleanup();
  });

  it('serves the API, metrics and health over HTTPS only, with HSTS', async () => {
    expect(c.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await get(c.httpUrl, ca.certPem, '/healthz')).body).toBe('{"status":"ok"}');
    const metrics = await get(c.httpUrl, ca.certPem, '/metrics', TOKEN);
    expect(metrics.status).toBe(200);
    expect(metrics.headers['strict-transport-security']).toBe('max-age=31536000');
    expect((await get(c.httpUrl, ca.certPem, '/api/v1/findings', TOKEN)).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('serves a new certificate once its files change, and keeps the old one while the new pair does not match', async () => {
    expect((await peerCertificate(port, ca.certPem)).subject.CN).toBe('collector-1');
    install(leaf('collector-2'));
    await until('the new certificate', async () => (await peerCertificate(port, ca.certPem)).subject.CN === 'collector-2');
    // A certificate written without its key (or the key of another): refused, the served pair stays.
    const third = leaf('collector-3');
    writeFileSync(certFile, third.certPem);
    await new Promise((r) => setTimeout(r, 300));
    expect((await peerCertificate(port, ca.certPem)).subject.CN).toBe('collector-2');
    writeFileSync(keyFile, third.keyPem);
    await until('the completed pair', async () => (await peerCertificate(port, ca.certPem)).subject.CN === 'collector-3');
    expect((await get(c.httpUrl, ca.certPem, '/readyz')).status).toBe(200);
  });

  it('refuses at start a certificate without a key, or a pair that does not match', () => {
    const raw = { dataDir: '/tmp/x', httpListen: '127.0.0.1:8443', auth: false, retention: '30d', reportInterval: '5m',
      maxReportSize: '8Mi', correlateInterval: '5s', logLevel: 'info', sqliteSync: 'FULL' };
    expect(() => resolveServeOptions({ ...raw, httpTlsCert: certFile })).toThrow(/--http-tls-cert and --http-tls-key go together/);
    const other = leaf('other');
    const otherKey = join(dir.path, 'other.key');
    writeFileSync(otherKey, other.keyPem);
    expect(() => resolveServeOptions({ ...raw, httpTlsCert: certFile, httpTlsKey: otherKey }))
      .toThrow(/are not a usable pair: .*key values mismatch/);
  });
});
