// The HTTP app: route plugins with zod schemas, auth as a hook before anything is read, JSON errors, metrics.
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServiceAccountVerifier } from '../ingest/service-accounts.js';
import { authHook, requireRole, type TokenSet } from './auth.js';
import { checkingSerializerCompiler, serializerCompiler, validatorCompiler } from './compilers.js';
import type { RoutePlugin, ServeContext } from './context.js';
import { openApiOptions } from './openapi.js';
import { BadParameter } from './params.js';
import { StoreUnavailableError, type StoreFault } from '../store/errors.js';
import { checksRoutes } from './routes/checks.js';
import { activityRoutes } from './routes/activity.js';
import { correlationsRoutes } from './routes/correlations.js';
import { dashboardRoutes, defaultDashboardDir } from './routes/dashboard.js';
import { eventsRoutes } from './routes/events.js';
import { findingsRoutes } from './routes/findings.js';
import { healthRoutes } from './routes/health.js';
import { nodesRoutes } from './routes/nodes.js';
import { reportsRoutes } from './routes/reports.js';
import { serviceAccountsRoutes } from './routes/serviceaccounts.js';
import { summaryRoutes } from './routes/summary.js';

const ROUTES: readonly RoutePlugin[] = [
  reportsRoutes, findingsRoutes, nodesRoutes, checksRoutes, correlationsRoutes, summaryRoutes, activityRoutes, eventsRoutes,
  healthRoutes, serviceAccountsRoutes,
];

interface HttpOptions {
  /** Undefined only with --no-auth. */
  tokens?: TokenSet;
  /** Agents' ServiceAccount tokens, accepted for `report` (--sa-issuer …). */
  serviceAccounts?: ServiceAccountVerifier;
  version: string;
  /** Serve HTTPS with this certificate and key (PEM); server.setSecureContext() swaps them while running. */
  tls?: { cert: Buffer; key: Buffer };
  /** Tests: check every response against its schema (see checkingSerializerCompiler). */
  checkResponses?: boolean;
  /** The built dashboard served at `/` (default: dist/dashboard beside the compiled collector). */
  dashboardDir?: string;
}

/** The body limit of every route that does not set its own (only POST /api/v1/reports takes large bodies). */
const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Headers every response carries unless its route set its own: the API answers JSON that must not be sniffed,
 * framed, cached or sent on as a referrer. (A handful of fixed headers: a helmet-style library would add CSP
 * defaults that the routes serving HTML set themselves.)
 */
const SECURITY_HEADERS: ReadonlyArray<[string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['referrer-policy', 'no-referrer'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['cache-control', 'no-store'],
];

const STORE_ERROR_STATUS: Record<StoreFault, 503 | 507> = { 'disk-full': 507, corrupt: 503, io: 503 };

export async function buildHttpApp(ctx: ServeContext, opts: HttpOptions) {
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMIT,
    // On shutdown, cut every connection: a client that stopped reading a large response would otherwise keep
    // close() waiting past the pod's grace period (the store is closed only after the server).
    forceCloseConnections: true,
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
  }).withTypeProvider<ZodTypeProvider>();
  const headers = opts.tls ? [...SECURITY_HEADERS, ['strict-transport-security', 'max-age=31536000'] as [string, string]] : SECURITY_HEADERS;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(opts.checkResponses ? checkingSerializerCompiler : serializerCompiler);

  app.addHook('onRoute', requireRole);
  app.addHook('onRequest', authHook(opts.tokens, opts.serviceAccounts, ctx.metrics.registry));
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [name, value] of headers) if (!reply.hasHeader(name)) reply.header(name, value);
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpRequests.inc({ method: req.method, route, code: String(reply.statusCode) });
    ctx.metrics.httpSeconds.observe({ route }, reply.elapsedTime / 1000);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof BadParameter) {
      return reply.code(400).send({ error: 'Bad Request', message: err.message, parameter: err.parameter });
    }
    if (err instanceof StoreUnavailableError) {
      req.log.error({ err, url: req.routeOptions.url }, 'store unavailable');
      return reply.code(STORE_ERROR_STATUS[err.fault]).send({
        error: err.fault === 'disk-full' ? 'Insufficient Storage' : 'Service Unavailable', message: err.message, code: `STORE_${err.fault.toUpperCase().replace('-', '_')}`,
      });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: reply.raw.statusMessage ?? 'Client Error', message: err.message, code: err.code });
    }
    req.log.error({ err, url: req.routeOptions.url }, 'request failed');
    return reply.code(500).send({ error: 'Internal Server Error', message: 'the collector could not answer; see its log' });
  });

  await app.register(fastifySwagger, openApiOptions(opts.version));
  for (const routes of ROUTES) await app.register(routes, { ctx });
  await app.register(dashboardRoutes, { dir: opts.dashboardDir ?? defaultDashboardDir() });
  return app;
}

export type HttpApp = Awaited<ReturnType<typeof buildHttpApp>>;
