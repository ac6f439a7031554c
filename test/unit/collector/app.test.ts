// The composition root (startCollector/close), the serve options, and the HTTP app's guarantees that REST tests
// do not see directly: auth before the body, a role on every route, responses checked against their schemas.
import { connect } from 'node:net';
import { Command } from 'commander';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addServeOptions, resolveServeOptions, type CollectorOptions, type RawServeOptions } from '../../../collector/app/options.js';
import { startCollector } from '../../../collector/app/start.js';
import { requireRole } from '../../../collector/serve/auth.js';
import { checkingSerializerCompiler } from '../../../collector/serve/compilers.js';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import { freePort, tempDir } from '../../harness/integration.js';
import { full, finding, report } from './helpers.js';
import { READ, REPORT, startTestCollector } from './collector-harness.js';

const reachable = (port: number): Promise<boolean> => new Promise((resolve) => {
  const socket = connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
  socket.on('error', () => resolve(false));
});

function options(dataDir: string, overrides: Partial<CollectorOptions> = {}): CollectorOptions {
  return {
    dataDir, http: { host: '127.0.0.1', port: 0 }, retentionMs: 86_400_000, reportIntervalMs: 60_000, maxReportBytes: 1024 * 1024,
    correlateIntervalMs: 0, logLevel: 'silent', sqliteSynchronous: 'NORMAL', ...overrides,
  };
}

describe('startCollector', () => {
  it('starts the streaming transports with the collector and stops them with it', async () => {
    const dir = tempDir('collector-app');
    const grpcPort = await freePort();
    const c = await startCollector(options(dir.path, { transports: { grpcListen: `127.0.0.1:${grpcPort}`, insecure: true } }),
      { log: pino({ level: 'silent' }) });
    try {
      expect(await reachable(grpcPort)).toBe(true);
      expect((await fetch(`${c.httpUrl}/readyz`)).status).toBe(200);
    } finally {
      await c.close();
      dir.cleanup();
    }
    expect(await reachable(grpcPort)).toBe(false);
    expect(await reachable(Number(new URL(c.httpUrl).port))).toBe(false);
  });

  it('fails as a whole when a transport cannot start: nothing is left listening', async () => {
    const dir = tempDir('collector-app');
    const httpPort = await freePort();
    try {
      await expect(startCollector(options(dir.path, { http: { host: '127.0.0.1', port: httpPort }, transports: { grpcListen: '127.0.0.1:0' } }),
        { log: pino({ level: 'silent' }) })).rejects.toThrow(/--grpc-listen needs/);
      expect(await reachable(httpPort)).toBe(false);
    } finally {
      dir.cleanup();
    }
  });

  it('stores what is queued before it closes the store', async () => {
    const dir = tempDir('collector-app');
    try {
      const c = await startCollector(options(dir.path), { log: pino({ level: 'silent' }) });
      const pending = Array.from({ length: 20 }, (_, i) =>
        c.ingestor.ingest(full(report(`n-${i}`, [finding({ checkId: 'cis-4.2.1' })]), 1)));
      await c.close();
      expect((await Promise.all(pending)).every((r) => r.applied)).toBe(true);
      const store = new SqliteStore(dir.path);
      await store.migrate();
      expect((await store.allNodes()).length).toBe(20);
      await store.close();
    } finally {
      dir.cleanup();
    }
  });
});

describe('HTTP app', () => {
  it('checks the token before it reads a body', async () => {
    const c = await startTestCollector({ maxReportBytes: 1024 });
    try {
      const tooLarge = JSON.stringify(report('n', [finding({ checkId: 'x', remediation: 'y'.repeat(2000) })]));
      expect((await c.post('/api/v1/reports', tooLarge, '')).status).toBe(401);
      expect((await c.post('/api/v1/reports', '{"not json', '')).status).toBe(401);
      expect((await c.post('/api/v1/reports', '{"not json', READ)).status).toBe(403);
      expect((await c.post('/api/v1/reports', tooLarge, REPORT)).status).toBe(413);
      expect((await c.post('/api/v1/reports?x=1', report('n', []), REPORT)).body.parameter).toBe('x');
    } finally {
      await c.stop();
    }
  });

  it('refuses a route that does not say who may call it', () => {
    expect(() => requireRole({ method: 'GET', url: '/x', handler: async () => null })).toThrow(/declares no role/);
    expect(() => requireRole({ method: 'GET', url: '/x', config: { role: null }, handler: async () => null })).not.toThrow();
  });

  it('fails a response (in tests) that has a field its schema does not declare, or lacks one it does', () => {
    const serialize = checkingSerializerCompiler({ schema: z.object({ a: z.number() }), method: 'GET', url: '/x', httpStatus: '200' });
    expect(serialize({ a: 1 })).toBe('{"a":1}');
    expect(() => serialize({ a: 1, b: 2 })).toThrow(/does not declare/);
    expect(() => serialize({})).toThrow(/does not match/);
  });
});

describe('serve options', () => {
  const raw = { dataDir: '/tmp/x', httpListen: '127.0.0.1:8080', auth: false, retention: '30d', reportInterval: '5m',
    maxReportSize: '32Mi', correlateInterval: '5s', logLevel: 'info', sqliteSync: 'FULL' };

  it('reads every duration as every Vigil command line does: 90, 90s, 1h30m, 7d', () => {
    expect(resolveServeOptions({ ...raw, retention: '7d', reportInterval: '90', correlateInterval: '1h30m' })).toMatchObject({
      retentionMs: 7 * 86_400_000, reportIntervalMs: 90_000, correlateIntervalMs: 5_400_000 });
    expect(resolveServeOptions({ ...raw, reportInterval: '90s' }).reportIntervalMs).toBe(90_000);
    expect(() => resolveServeOptions({ ...raw, correlateInterval: 'soon' })).toThrow(/^--correlate-interval: "soon" is not a duration/);
  });

  it('reads every size as every Vigil command line does: 64Mi, 64MB, a byte count', () => {
    const size = (maxReportSize: string): number => resolveServeOptions({ ...raw, maxReportSize }).maxReportBytes;
    expect(size('32Mi')).toBe(32 * 1024 * 1024);
    expect(size('64MB')).toBe(64_000_000);
    expect(size('33554432')).toBe(33_554_432);
    expect(size('32mb')).toBe(32_000_000);
    expect(() => size('lots')).toThrow(/^--max-report-size: "lots" is not a size/);
  });

  it('keeps its defaults (an 8 MiB report limit, which fits 5,000 findings), takes :port as every interface, carries the transport options through', () => {
    const serve = addServeOptions(new Command('serve')).parse(['--data-dir', '/tmp/x', '--no-auth'], { from: 'user' });
    expect(resolveServeOptions(serve.opts<RawServeOptions>())).toMatchObject({
      maxReportBytes: 8_388_608, retentionMs: 30 * 86_400_000, reportIntervalMs: 300_000, correlateIntervalMs: 5_000,
      http: { host: '127.0.0.1', port: 8080 } });
    expect(() => resolveServeOptions({ ...raw, httpListen: ':8080' })).toThrow(/loopback --http-listen address, not 0\.0\.0\.0/);
    expect(() => resolveServeOptions({ ...raw, httpListen: '127.0.0.1' })).toThrow(/^--http-listen: "127.0.0.1" is not HOST:PORT/);
    expect(resolveServeOptions({ ...raw, grpcListen: '127.0.0.1:7443', insecure: true }).transports)
      .toMatchObject({ grpcListen: '127.0.0.1:7443', insecure: true });
  });
});
