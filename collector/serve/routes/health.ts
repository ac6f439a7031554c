// The routes beside the API: liveness, readiness, Prometheus metrics and the OpenAPI document.
import { z } from 'zod';
import { StoreUnavailableError } from '../../store/errors.js';
import type { RoutePlugin } from '../context.js';
import { NO_PARAMS } from '../params.js';
import { HealthBody, NotReadyBody, OPEN_ROUTE_ERRORS, OpenApiDocument, ReadyBody, tokenRouteErrors } from '../schemas.js';

export const healthRoutes: RoutePlugin = async (app, { ctx }) => {
  let closing = false;
  app.addHook('onClose', async () => { closing = true; });

  app.get('/healthz', {
    config: { role: null },
    schema: {
      summary: 'Liveness: the process answers',
      querystring: NO_PARAMS,
      response: { 200: HealthBody.describe('alive'), ...OPEN_ROUTE_ERRORS },
    },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    config: { role: null },
    schema: {
      summary: 'Readiness: the store answers real queries, and takes writes again after one failed',
      querystring: NO_PARAMS,
      response: { 200: ReadyBody.describe('ready'), 503: NotReadyBody.describe('closing, or the store does not answer'), ...OPEN_ROUTE_ERRORS },
    },
  }, async (_req, reply) => {
    if (closing) return reply.code(503).send({ status: 'closing' });
    try {
      // Real queries; after a failed write (a full disk) a probe write too: not ready until writes work again.
      await ctx.store.ping();
      return { status: 'ready' as const, store: ctx.store.kind };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return reply.code(503).send({ status: 'store unavailable', message, ...(err instanceof StoreUnavailableError ? { fault: err.fault } : {}) });
    }
  });

  const registry = ctx.metrics.registry;
  app.get('/metrics', {
    config: { role: 'read' },
    schema: {
      summary: 'Prometheus metrics',
      querystring: NO_PARAMS,
      response: {
        200: { description: 'the Prometheus text exposition format', content: { [registry.contentType]: { schema: z.string() } } },
        ...tokenRouteErrors('read'),
      },
    },
  }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  app.get('/api/v1/openapi.json', {
    config: { role: null },
    schema: {
      summary: 'This API as an OpenAPI 3.1 document',
      querystring: NO_PARAMS,
      response: { 200: OpenApiDocument.describe('the OpenAPI document'), ...OPEN_ROUTE_ERRORS },
    },
  }, async () => OpenApiDocument.parse(app.swagger()));
};
