// Starts a real collector (SQLite in a temp dir, loopback HTTP on a free port) for REST tests.
import pino from 'pino';
import { startCollector, type RunningCollector, type StartDeps } from '../../../collector/app/start.js';
import type { CollectorOptions } from '../../../collector/app/options.js';
import { loadTokens } from '../../../collector/serve/auth.js';
import { tempDir } from '../../harness/integration.js';

export const READ = 'read-token-0123456789abcdef';
export const REPORT = 'report-token-0123456789abcdef';
export const BOTH = 'both-token-0123456789abcdef';

export interface TestCollector extends RunningCollector {
  clock: { now: number };
  get(path: string, token?: string): Promise<{ status: number; body: any; headers: Headers }>;
  post(path: string, body: unknown, token?: string, contentType?: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startTestCollector(overrides: Partial<CollectorOptions> = {},
  deps: Pick<StartDeps, 'live' | 'dashboardDir'> = {}): Promise<TestCollector> {
  const dir = tempDir('collector');
  const clock = { now: Date.now() };
  const options: CollectorOptions = {
    dataDir: dir.path,
    http: { host: '127.0.0.1', port: 0 },
    tokens: loadTokens(`${READ} read reader\n${REPORT} report agent\n${BOTH} read,report admin\n`),
    retentionMs: 30 * 86_400_000,
    reportIntervalMs: 60_000,
    maxReportBytes: 1024 * 1024,
    correlateIntervalMs: 0,
    logLevel: 'silent',
    sqliteSynchronous: 'NORMAL',
    ...overrides,
  };
  // Every response is checked against its schema: a field the OpenAPI document does not declare fails the test.
  const c = await startCollector(options, { log: pino({ level: 'silent' }), now: () => clock.now, checkResponses: true, ...deps });
  const request = async (method: string, path: string, token?: string, body?: string, contentType = 'application/json') => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = contentType;
    const res = await fetch(c.httpUrl + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* metrics and errors may be text */ }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return Object.assign(c, {
    clock,
    get: (path: string, token = READ) => request('GET', path, token),
    post: (path: string, body: unknown, token = REPORT, contentType?: string) =>
      request('POST', path, token, typeof body === 'string' ? body : JSON.stringify(body), contentType),
    stop: async () => { await c.close(); dir.cleanup(); },
  });
}
