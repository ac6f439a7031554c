// What every route plugin gets: the store, the ingest function, the correlation engine and the clock.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ClusterSnapshot } from '../cluster/model.js';
import type { Logger } from 'pino';
import type { CorrelationEngine } from '../correlate/engine.js';
import type { BatchingIngestor } from '../ingest/ingestor.js';
import type { Store } from '../store/types.js';
import type { Role } from './auth.js';
import type { LiveEvents } from './events.js';
import type { CollectorMetrics } from './metrics.js';

export interface ServeContext {
  store: Store;
  ingestor: BatchingIngestor;
  engine: CorrelationEngine;
  metrics: CollectorMetrics;
  log: Logger;
  /** The live feed (GET /api/v1/events). */
  events: LiveEvents;
  /** A node is silent when its last report is older than this. */
  silentAfterMs: number;
  /** The body limit of POST /api/v1/reports (--max-report-size); every other route takes small bodies only. */
  maxReportBytes: number;
  now(): number;
  /** The Kubernetes API's picture (RBAC, pods), when the collector reads it. */
  cluster?: { snapshot(): ClusterSnapshot | undefined };
}

/** A group of routes: registers them, each with its zod schemas and its role, on the app it is given. */
export type RoutePlugin = FastifyPluginAsyncZod<{ ctx: ServeContext }>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: a token role, or null for the open routes (health, the OpenAPI document). Every route says. */
    role?: Role | null;
  }
}
