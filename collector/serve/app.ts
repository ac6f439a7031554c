// The fastify app: routes from their definitions, auth per route role, parameter validation, JSON errors.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authorize, type TokenSet } from './auth.js';
import type { RouteDef, ServeContext } from './context.js';
import { buildOpenApi } from './openapi.js';
import { BadParameter, parseParams } from './params.js';

export interface AppOptions {
  tokens?: TokenSet;
  version: string;
}

function deny(reply: FastifyReply, code: 401 | 403, message: string): FastifyReply {
  if (code === 401) reply.header('www-authenticate', 'Bearer realm="vigil-collector"');
  return reply.code(code).send({ error: code === 401 ? 'Unauthorized' : 'Forbidden', message });
}

export function buildApp(ctx: ServeContext, routes: readonly RouteDef[], opts: AppOptions): FastifyInstance {
  // The pino logger's own type is narrower than fastify's default; the instance is used through the default.
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.maxReportBytes,
    // On shutdown, cut every connection: a client that stopped reading a large response would otherwise keep
    // close() waiting past the pod's grace period (the store is closed only after the server).
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  let ready = true;
  const all: RouteDef[] = [...routes, ...builtinRoutes(ctx, () => ready, () => openapi)];
  const openapi = buildOpenApi(all, opts.version);

  for (const def of all) {
    app.route({
      method: def.method,
      url: def.url,
      ...(def.bodyLimit ? { bodyLimit: def.bodyLimit } : {}),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        if (def.role) {
          const auth = authorize(opts.tokens, req.headers.authorization, def.role);
          if (!auth.ok) return deny(reply, auth.code, auth.message);
        }
        const query = parseParams(def.params ?? [], (req.query ?? {}) as Record<string, unknown>, ctx.now());
        return def.handler(ctx, query, req, reply);
      },
    });
  }

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpRequests.inc({ method: req.method, route, code: String(reply.statusCode) });
    ctx.metrics.httpSeconds.observe({ route }, reply.elapsedTime / 1000);
  });
  app.addHook('onClose', async () => { ready = false; });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof BadParameter) {
      return reply.code(400).send({ error: 'Bad Request', message: err.message, parameter: err.parameter });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: reply.raw.statusMessage ?? 'Client Error', message: err.message, code: err.code });
    }
    req.log.error({ err, url: req.routeOptions.url }, 'request failed');
    return reply.code(500).send({ error: 'Internal Server Error', message: 'the collector could not answer; see its log' });
  });
  return app;
}

function builtinRoutes(ctx: ServeContext, isReady: () => boolean, openapi: () => unknown): RouteDef[] {
  const routes: RouteDef[] = [
    {
      method: 'GET', url: '/healthz', role: null, summary: 'Liveness: the process answers', responses: { 200: '{ status: "ok" }' },
      async handler() { return { status: 'ok' }; },
    },
    {
      method: 'GET', url: '/readyz', role: null, summary: 'Readiness: the store answers', responses: { 200: 'ready', 503: 'not ready' },
      async handler(c, _q, _req, reply) {
        if (!isReady()) return reply.code(503).send({ status: 'closing' });
        try {
          await c.store.ping();
          return { status: 'ready', store: c.store.kind };
        } catch (err) {
          return reply.code(503).send({ status: 'store unavailable', message: (err as Error).message });
        }
      },
    },
    {
      method: 'GET', url: '/metrics', role: 'read', summary: 'Prometheus metrics', responses: { 200: 'text exposition format' },
      async handler(c, _q, _req, reply) {
        const body = await c.metrics.registry.metrics();
        return reply.type(c.metrics.registry.contentType).send(body);
      },
    },
    {
      method: 'GET', url: '/api/v1/openapi.json', role: null, summary: 'This API as an OpenAPI 3.1 document', responses: { 200: 'OpenAPI document' },
      async handler() { return openapi(); },
    },
  ];
  return routes;
}
