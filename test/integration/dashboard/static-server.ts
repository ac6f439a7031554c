// PHASE 1 STAND-IN: the collector does not serve the dashboard yet, so the tests serve dist/dashboard from this
// tiny server, which sends the content-security-policy the build wrote into manifest.json and passes /api/ through
// to the real collector process (streaming, so server-sent events work too). Phase 2 serves the dashboard from the
// collector's own HTTP listener and this file goes away.
import { readFileSync } from 'node:fs';
import { request as httpRequest, createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { REPO } from '../../harness/built-cli.js';

export const DASHBOARD_DIST = join(REPO, 'dist/dashboard');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

interface Manifest {
  index: string;
  csp: string;
  files: Array<{ path: string; bytes: number; gzipBytes: number; immutable: boolean }>;
  shippedGzipBytes: number;
}

export const readManifest = (): Manifest => JSON.parse(readFileSync(join(DASHBOARD_DIST, 'manifest.json'), 'utf8')) as Manifest;

export async function serveDashboard(collectorBase: string): Promise<{ url: string; close(): Promise<void> }> {
  const manifest = readManifest();
  const upstream = new URL(collectorBase);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/api/') || path === '/healthz' || path === '/readyz') {
      const up = httpRequest({
        host: upstream.hostname, port: upstream.port, method: req.method, path: req.url,
        headers: { ...req.headers, host: upstream.host },
      }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', (err) => { res.writeHead(502, { 'content-type': 'text/plain' }); res.end(String(err)); });
      req.pipe(up);
      res.on('close', () => up.destroy());
      return;
    }
    const rel = path === '/' ? manifest.index : normalize(decodeURIComponent(path)).replace(/^\/+/, '');
    if (rel.startsWith('..') || !manifest.files.some((f) => f.path === rel)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(rel)] ?? 'application/octet-stream',
      'content-security-policy': manifest.csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(readFileSync(join(DASHBOARD_DIST, rel)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
