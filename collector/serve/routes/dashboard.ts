// The dashboard at `/`: the files `npm run build` wrote to dist/dashboard, exactly those its manifest.json lists, read
// once at startup. index.html is revalidated on every load (no-cache), the content-hashed assets are cached for a
// year, and every answer carries the page's content-security-policy. The page holds no data, so it needs no token:
// the API calls it makes carry the read token (or none with --no-auth). These routes are left out of the OpenAPI
// document (`schema.hide`): they are the page, not the API.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isRecord } from '../../../common/json.js';
import { ErrorBody } from '../schemas.js';

/**
 * Beside the compiled collector (dist/collector/serve/routes → dist/dashboard); when the collector runs from its
 * TypeScript sources (the tests), the build's output under dist/ all the same.
 */
export function defaultDashboardDir(): string {
  const here = fileURLToPath(import.meta.url);
  const root = resolve(dirname(here), '../../..');
  return here.endsWith('.ts') ? join(root, 'dist', 'dashboard') : join(root, 'dashboard');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.txt': 'text/plain; charset=utf-8', '.json': 'application/json',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

interface StaticFile {
  body: Buffer;
  gzip: Buffer | undefined;
  etag: string;
  headers: Record<string, string>;
}

/** What the build wrote, or why it cannot be served. */
function loadSite(dir: string): { files: Map<string, StaticFile>; index: string } | { missing: string } {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch (err) {
    return { missing: err instanceof Error ? err.message : String(err) };
  }
  if (!isRecord(manifest) || typeof manifest.index !== 'string' || typeof manifest.csp !== 'string' || !Array.isArray(manifest.files)) {
    return { missing: `${join(dir, 'manifest.json')} is not a dashboard manifest` };
  }
  const files = new Map<string, StaticFile>();
  for (const entry of manifest.files) {
    if (!isRecord(entry) || typeof entry.path !== 'string' || !/^[\w.-]+(\/[\w.-]+)?$/.test(entry.path) || entry.path.includes('..')) {
      return { missing: `${join(dir, 'manifest.json')} lists a file it should not: ${JSON.stringify(entry)}` };
    }
    const body = readFileSync(join(dir, entry.path));
    const type = TYPES[extname(entry.path)] ?? 'application/octet-stream';
    const gzip = /^(text|image\/svg|application\/json)/.test(type) ? gzipSync(body, { level: 9 }) : undefined;
    files.set(entry.path, {
      body,
      gzip: gzip && gzip.length < body.length ? gzip : undefined,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      headers: {
        'content-type': type,
        'cache-control': entry.immutable === true ? IMMUTABLE : 'no-cache',
        'content-security-policy': manifest.csp,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    });
  }
  if (!files.has(manifest.index)) return { missing: `${join(dir, 'manifest.json')} does not list its index ${manifest.index}` };
  return { files, index: manifest.index };
}

function send(file: StaticFile, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  void reply.headers(file.headers).header('etag', file.etag);
  if (file.gzip) void reply.header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  if (file.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

/** A page is opened with whatever query a link carried; the page itself reads only its #fragment. */
const AnyQuery = z.looseObject({});

const schema = (what: string) => ({
  hide: true,
  querystring: AnyQuery,
  response: {
    200: z.string().describe(what),
    304: z.null().describe('not modified since the ETag given in if-none-match'),
    404: ErrorBody.describe('the dashboard is not built'),
  },
});

export const dashboardRoutes: FastifyPluginAsyncZod<{ dir: string }> = async (app, { dir }) => {
  const site = loadSite(dir);
  if ('missing' in site) {
    app.log.warn({ dir, reason: site.missing }, 'dashboard not served: run npm run build');
    app.get('/', { config: { role: null }, schema: schema('the dashboard') }, async (_req, reply) => reply.code(404).send({
      error: 'Not Found',
      message: `the dashboard is not built into ${dir}: run npm run build (the API under /api/v1 works without it)`,
    }));
    return;
  }
  const index = site.files.get(site.index)!;
  app.get('/', { config: { role: null }, schema: schema('the dashboard (index.html)') }, async (req, reply) => send(index, req, reply));
  for (const [path, file] of site.files) {
    app.get(`/${path}`, { config: { role: null }, schema: schema(path) }, async (req, reply) => send(file, req, reply));
  }
};
