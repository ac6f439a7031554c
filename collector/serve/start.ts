// startCollector: the one way to run a collector (CLI, tests, and the streaming transports that plug in later).
import type { FastifyInstance } from 'fastify';
import { VIGIL_VERSION } from '../../proto/version.js';
import { createLogger, type Logger } from '../log.js';
import { CorrelationEngine } from '../correlate/engine.js';
import { reportsRoute } from '../ingest/http.js';
import { BatchingIngestor } from '../ingest/ingestor.js';
import { IngestValidationError } from '../ingest/types.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { buildApp } from './app.js';
import type { RouteDef, ServeContext } from './context.js';
import { CollectorMetrics } from './metrics.js';
import { SILENT_AFTER_INTERVALS, type CollectorOptions } from './options.js';
import { checksRoute } from './routes/checks.js';
import { correlationsRoute, rulesRoute } from './routes/correlations.js';
import { findingsRoute } from './routes/findings.js';
import { nodeRoute, nodesRoute } from './routes/nodes.js';
import { scoreRoute, summaryRoute } from './routes/summary.js';

export const ROUTES: RouteDef[] = [
  reportsRoute, findingsRoute, nodesRoute, nodeRoute, checksRoute, correlationsRoute, rulesRoute, summaryRoute, scoreRoute,
];

const RETENTION_SWEEP_MS = 60 * 60 * 1000;
const OPTIMIZE_EVERY = 200_000;

export interface RunningCollector {
  /** The ingest entry point for every transport. */
  ingestor: BatchingIngestor;
  store: Store;
  engine: CorrelationEngine;
  metrics: CollectorMetrics;
  log: Logger;
  app: FastifyInstance;
  /** Base URL of the REST API, e.g. http://127.0.0.1:8080. */
  httpUrl: string;
  /** Stops accepting, finishes queued ingest, closes the server and the store. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartDeps {
  log?: Logger;
  now?: () => number;
}

export async function startCollector(options: CollectorOptions, deps: StartDeps = {}): Promise<RunningCollector> {
  const log = deps.log ?? createLogger(options.logLevel);
  const now = deps.now ?? Date.now;
  const silentAfterMs = SILENT_AFTER_INTERVALS * options.reportIntervalMs;
  const store = await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, sqliteSynchronous: options.sqliteSynchronous }, log);

  const engine = new CorrelationEngine(store, {
    silentAfterMs, minIntervalMs: options.correlateIntervalMs, maxAgeMs: Math.max(options.correlateIntervalMs, 30_000),
    scoreHistoryIntervalMs: Math.max(options.reportIntervalMs, 60_000), now, log,
  });
  const metrics = new CollectorMetrics({
    async nodes() {
      const { total, silent } = await store.nodeCounts(now() - silentAfterMs);
      return { reporting: total - silent, silent };
    },
    async correlations() {
      const snap = await engine.current();
      const counts: Record<string, number> = { drift: 0, 'attack-path': 0, coverage: 0 };
      for (const c of snap.items) counts[c.kind]++;
      return counts;
    },
  });
  // Planner statistics follow the data: refreshed after every OPTIMIZE_EVERY applied findings.
  let findingsSinceOptimize = 0;
  let optimizing = false;
  const optimize = (): void => {
    if (optimizing) return;
    optimizing = true;
    findingsSinceOptimize = 0;
    store.optimize().catch((err: unknown) => log.warn({ err }, 'store optimize failed')).finally(() => { optimizing = false; });
  };
  const ingestor = new BatchingIngestor(store, {
    now,
    onResult(message, result, ms) {
      metrics.ingestMessages.inc({ kind: message.kind, result: result.applied ? 'applied' : 'duplicate' });
      if (result.applied) {
        const n = message.kind === 'full' ? message.report.findings.length : message.upserts.length;
        metrics.ingestFindings.inc(n);
        engine.markDirty();
        findingsSinceOptimize += n;
        if (findingsSinceOptimize >= OPTIMIZE_EVERY) optimize();
      }
      metrics.ingestSeconds.observe(ms / 1000);
    },
    onInvalid(_input, err) {
      if (err instanceof IngestValidationError) metrics.ingestMessages.inc({ kind: 'unknown', result: 'invalid' });
    },
    onError(err, messages) {
      metrics.ingestMessages.inc({ kind: 'unknown', result: 'error' }, messages);
      log.error({ err, messages }, 'ingest transaction failed');
    },
  });

  const ctx: ServeContext = { store, ingestor, engine, metrics, log, silentAfterMs, maxReportBytes: options.maxReportBytes, now };
  const app = buildApp(ctx, ROUTES, { tokens: options.tokens, version: VIGIL_VERSION });

  const sweep = async (): Promise<void> => {
    try {
      const purged = await store.purgeResolved(now() - options.retentionMs);
      if (purged > 0) { log.info({ purged }, 'retention: resolved findings deleted'); engine.markDirty(); }
      optimize();
    } catch (err) {
      log.warn({ err }, 'retention sweep failed');
    }
  };
  await sweep();
  const timer = setInterval(() => { void sweep(); }, RETENTION_SWEEP_MS);
  timer.unref();

  let address: string;
  try {
    address = await app.listen({ host: options.http.host, port: options.http.port });
  } catch (err) {
    clearInterval(timer);
    await store.close();
    throw err;
  }
  const httpUrl = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
  log.info({ url: address, store: store.kind, auth: options.tokens ? 'tokens' : 'none' }, 'collector listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(timer);
      await app.close();
      await ingestor.flush();
      await store.close();
      log.info('collector stopped');
    })();
    return closing;
  };
  return { ingestor, store, engine, metrics, log, app, httpUrl, close };
}
