// The dashboard's files at `/`: exactly what the build's manifest lists, cached as they should be, with the page's
// content-security-policy, open without a token while the API keeps its auth; a 404 that says what to do without a build.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDashboardDir } from '../../../collector/serve/routes/dashboard.js';
import { REPO } from '../../harness/built-cli.js';
import { tempDir } from '../../harness/integration.js';
import { startTestCollector, type TestCollector } from './collector-harness.js';

const CSP = "default-src 'none'; script-src 'self'; frame-ancestors 'none'";
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

function fakeBuild(dir: string): void {
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Vigil</title><script src="assets/app-ABC123.js"></script>');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, 'assets/app-ABC123.js'), SCRIPT);
  writeFileSync(join(dir, 'assets/stale-OLD.js'), 'not listed');
  writeFileSync(join(dir, 'secret.txt'), 'not listed');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
    index: 'index.html', csp: CSP, shippedGzipBytes: 0,
    files: [
      { path: 'index.html', immutable: false }, { path: 'favicon.svg', immutable: false }, { path: 'assets/app-ABC123.js', immutable: true },
    ],
  }));
}

describe('the dashboard at /', () => {
  let c: TestCollector;
  let dir: { path: string; cleanup(): void };
  const get = (path: string, headers: Record<string, string> = {}) => fetch(c.httpUrl + path, { headers });

  beforeAll(async () => {
    dir = tempDir('dashboard-dist');
    fakeBuild(dir.path);
    c = await startTestCollector({}, { dashboardDir: dir.path });
  });
  afterAll(async () => {
    await c?.stop();
    dir?.cleanup();
  });

  it('serves index.html without a token, revalidated every time, with the page\'s security headers', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>Vigil</title>');
    expect(Object.fromEntries(['content-type', 'cache-control', 'content-security-policy', 'x-content-type-options', 'referrer-policy']
      .map((h) => [h, res.headers.get(h)]))).toEqual({
      'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': CSP,
      'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
    });
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get('/', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await get('/?from=bookmark')).status).toBe(200);
    // The API behind it keeps its auth.
    expect((await get('/api/v1/summary')).status).toBe(401);
  });

  it('caches the content-hashed assets for a year, compressed for clients that accept it', async () => {
    const res = await get('/assets/app-ABC123.js', { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('vary')).toBe('accept-encoding');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(await res.text()).toBe(SCRIPT);
    const icon = await get('/favicon.svg');
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('serves nothing from the directory that the manifest does not list', async () => {
    for (const path of ['/assets/stale-OLD.js', '/secret.txt', '/manifest.json', '/assets/../secret.txt', '/%2e%2e/package.json', '/assets/']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: string }).error, path).toBe('Not Found');
    }
  });

  it('leaves the page out of the OpenAPI document', async () => {
    const paths = Object.keys((await c.get('/api/v1/openapi.json', '')).body.paths);
    expect(paths.filter((p) => p === '/' || p.startsWith('/assets') || p.endsWith('.svg') || p.endsWith('.html'))).toEqual([]);
  });
});

describe('a collector built without the dashboard', () => {
  it('looks for it in dist/dashboard (beside dist/collector when compiled)', () => {
    expect(defaultDashboardDir()).toBe(join(REPO, 'dist', 'dashboard'));
  });

  it('answers / with a 404 that says to build it, and serves its API all the same', async () => {
    const dir = tempDir('no-dashboard');
    const c = await startTestCollector({}, { dashboardDir: join(dir.path, 'missing') });
    try {
      const res = await fetch(`${c.httpUrl}/`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'Not Found', message: expect.stringMatching(/run npm run build/) });
      expect((await c.get('/api/v1/summary')).status).toBe(200);
    } finally {
      await c.stop();
      dir.cleanup();
    }
  });
});
