// What every route handler gets: the store, the ingest function, the correlation engine and the options.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import type { CorrelationEngine } from '../correlate/engine.js';
import type { BatchingIngestor } from '../ingest/ingestor.js';
import type { Store } from '../store/types.js';
import type { Role } from './auth.js';
import type { CollectorMetrics } from './metrics.js';
import type { ParamSpec } from './params.js';

export interface ServeContext {
  store: Store;
  ingestor: BatchingIngestor;
  engine: CorrelationEngine;
  metrics: CollectorMetrics;
  log: Logger;
  silentAfterMs: number;
  maxReportBytes: number;
  now(): number;
}

export interface RouteDef {
  method: 'GET' | 'POST';
  /** Fastify path (`/api/v1/nodes/:name`). */
  url: string;
  /** Null: open (health, OpenAPI). */
  role: Role | null;
  summary: string;
  params?: readonly ParamSpec[];
  pathParams?: ReadonlyArray<{ name: string; description: string }>;
  /** Response description per status code, for the OpenAPI document. */
  responses: Record<string, string>;
  bodyLimit?: number;
  handler(ctx: ServeContext, query: Record<string, unknown>, req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}
