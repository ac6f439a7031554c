// startCollector: the collector's one composition root (the CLI, the tests and the benchmarks start it the same
// way). It opens the store, wires ingest, correlation and metrics, serves HTTP and starts the streaming
// transports; close() stops them in the reverse order, so nothing is cut off from what it writes to.
import type { Server } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { VIGIL_VERSION } from '../../proto/version.js';
import { CLUSTER_NODE } from '../cluster/checks/catalogue.js';
import { apiServer, loadKubeConfig } from '../cluster/kubeconfig.js';
import { affectsNodeView, NODE_VIEW_SELECTOR, nodeViewFrom } from '../cluster/node-view.js';
import { ClusterSource, type ClusterSourceOptions } from '../cluster/source.js';
import { CorrelationEngine } from '../correlate/engine.js';
import { BatchingIngestor } from '../ingest/ingestor.js';
import { startTransports } from '../ingest/transports/index.js';
import { ServiceAccountVerifier } from '../ingest/service-accounts.js';
import { IngestValidationError } from '../ingest/types.js';
import { createLogger } from '../log.js';
import { buildHttpApp, type HttpApp } from '../serve/app.js';
import { LIVE_DEFAULTS, LiveEvents, type LiveEventsOptions } from '../serve/events.js';
import { CollectorMetrics } from '../serve/metrics.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { Housekeeping } from './housekeeping.js';
import { readTlsPair, TlsReloader } from './http-tls.js';
import { SILENT_AFTER_INTERVALS, type CollectorOptions } from './options.js';

export interface RunningCollector {
  /** The ingest entry point for every transport. */
  ingestor: BatchingIngestor;
  store: Store;
  engine: CorrelationEngine;
  metrics: CollectorMetrics;
  log: Logger;
  app: HttpApp;
  /** Base URL of the REST API, e.g. http://127.0.0.1:8080. */
  httpUrl: string;
  /** Reads the Kubernetes API into cluster findings; undefined when the collector does not (see options.kube). */
  cluster?: ClusterSource;
  /** Stops the transports, then HTTP, stores what is queued, closes the store. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartDeps {
  log?: Logger;
  now?: () => number;
  /** Tests: every HTTP response is checked against its schema. */
  checkResponses?: boolean;
  /** Tests: how often the HTTPS certificate files are read again. */
  tlsReloadMs?: number;
  /** Tests: the live feed's limits and timings (GET /api/v1/events). */
  live?: Partial<Pick<LiveEventsOptions, 'maxClients' | 'heartbeatMs' | 'coalesceMs' | 'watchMs' | 'retryMs'>>;
  /** Tests: where the built dashboard is (default: dist/dashboard beside the compiled collector). */
  dashboardDir?: string;
  /** Tests: the cluster source's timing (debounce, settle, backoff). */
  cluster?: Pick<ClusterSourceOptions, 'debounceMs' | 'maxDelayMs' | 'nodeViewDelayMs' | 'settleTimeoutMs' | 'reflector'>;
}

function kubeConfigFor(setting: NonNullable<CollectorOptions['kube']>): KubeConfig {
  return loadKubeConfig(setting.source === 'kubeconfig' ? { kubeconfig: setting.path, context: setting.context } : {});
}

/** What has started, stopped last-started first: transports → HTTP → housekeeping → queued ingest → store. */
class Stops {
  private readonly steps: Array<{ what: string; stop: () => Promise<unknown> }> = [];

  push(what: string, stop: () => Promise<unknown>): void {
    this.steps.push({ what, stop });
  }

  /** Runs every step even when one fails; throws the first failure afterwards. */
  async run(log: Logger): Promise<void> {
    let failure: unknown;
    for (const { what, stop } of this.steps.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error({ err, what }, 'could not stop cleanly');
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

export async function startCollector(options: CollectorOptions, deps: StartDeps = {}): Promise<RunningCollector> {
  const log = deps.log ?? createLogger(options.logLevel);
  const now = deps.now ?? Date.now;
  const silentAfterMs = SILENT_AFTER_INTERVALS * options.reportIntervalMs;
  const stops = new Stops();

  // Read before anything starts: a bad --kubeconfig is an error at startup, not a log line later.
  const kubeConfig = options.kube ? kubeConfigFor(options.kube) : undefined;
  let cluster: ClusterSource | undefined;

  const store = await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, sqliteSynchronous: options.sqliteSynchronous }, log);
  stops.push('store', () => store.close());
  try {
    // The live feed hears every commit that changed findings and every new correlation result.
    const events: LiveEvents = new LiveEvents({ store, correlations: () => engine.current() }, {
      ...LIVE_DEFAULTS, ...deps.live, version: VIGIL_VERSION, silentAfterMs, recomputeAfterMs: options.correlateIntervalMs, now,
      log: log.child({ component: 'live' }),
    });
    store.observe((changes) => events.stored(changes));
    const engine = new CorrelationEngine(store, {
      silentAfterMs, minIntervalMs: options.correlateIntervalMs, maxAgeMs: Math.max(options.correlateIntervalMs, 30_000),
      scoreHistoryIntervalMs: Math.max(options.reportIntervalMs, 60_000), now, log, onComputed: (snapshot) => events.computed(snapshot),
      cluster: () => cluster?.snapshot(),
    });
    const metrics = new CollectorMetrics({
      async nodes() {
        const { total, silent } = await store.nodeCounts(now() - silentAfterMs);
        return { reporting: total - silent, silent };
      },
      async correlations() {
        const counts = { drift: 0, 'attack-path': 0, coverage: 0 };
        for (const c of (await engine.current()).items) counts[c.kind]++;
        return counts;
      },
    });
    const housekeeping = new Housekeeping(store, engine, log, { retentionMs: options.retentionMs, now });
    const ingestor = new BatchingIngestor(store, {
      now,
      // Only the collector's own cluster source writes node `cluster`; every agent and HTTP caller is refused it.
      reservedNodes: [CLUSTER_NODE],
      onResult(message, result, ms) {
        metrics.ingestMessages.inc({ kind: message.kind, result: result.applied ? 'applied' : 'duplicate' });
        if (result.applied) {
          const n = message.kind === 'full' ? message.report.findings.length : message.upserts.length;
          metrics.ingestFindings.inc(n);
          engine.markDirty();
          housekeeping.applied(n);
          if (message.node !== CLUSTER_NODE && affectsNodeView(message)) cluster?.nodesChanged();
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
    stops.push('queued ingest', () => ingestor.flush());

    await housekeeping.start();
    stops.push('housekeeping', () => housekeeping.stop());

    if (kubeConfig) {
      cluster = new ClusterSource({
        kubeConfig, log, now, fullIntervalMs: options.reportIntervalMs, ...deps.cluster,
        sink: { ingest: (m) => ingestor.ingestOwn(m), lastSeq: (node) => ingestor.lastSeq(node) },
        nodeView: async () => nodeViewFrom(await store.facts(NODE_VIEW_SELECTOR)),
        onEvaluated: () => engine.markDirty(),
      });
    }

    const serviceAccounts = options.serviceAccounts ? new ServiceAccountVerifier({ ...options.serviceAccounts, log }) : undefined;
    await serviceAccounts?.start();
    const tls = options.httpTls ? readTlsPair(options.httpTls) : undefined;
    const app = await buildHttpApp({ store, ingestor, engine, metrics, log, events, silentAfterMs, now, cluster, maxReportBytes: options.maxReportBytes }, {
      tokens: options.tokens, serviceAccounts, version: VIGIL_VERSION, checkResponses: deps.checkResponses, tls,
      dashboardDir: deps.dashboardDir,
    });
    stops.push('HTTP', () => app.close());
    const address = await app.listen({ host: options.http.host, port: options.http.port });
    const httpUrl = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
    if (options.httpTls && tls) {
      const reloader = new TlsReloader(options.httpTls, tls, app.server as Server, log, deps.tlsReloadMs);
      reloader.start();
      stops.push('HTTPS certificate reload', async () => reloader.stop());
    }

    stops.push('transports', await startTransports(options.transports ?? {}, ingestor, log, metrics.registry, { serviceAccounts }));
    if (cluster && kubeConfig) {
      cluster.start();
      const source = cluster;
      stops.push('cluster source', () => source.stop());
      log.info({ server: apiServer(kubeConfig), config: options.kube?.source }, 'reading the Kubernetes API');
    } else {
      log.info('not reading the Kubernetes API (no in-cluster config and no --kubeconfig, or --no-kube): no cluster findings');
    }
    log.info({ url: address, store: store.kind, auth: options.tokens ? 'tokens' : 'none',
      serviceAccounts: options.serviceAccounts ? { issuer: options.serviceAccounts.issuer, audience: options.serviceAccounts.audience,
        subjects: options.serviceAccounts.subjects } : 'none' }, 'collector listening');

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= stops.run(log).then(() => log.info('collector stopped'));
      return closing;
    };
    return { ingestor, store, engine, metrics, log, app, httpUrl, close, ...(cluster ? { cluster } : {}) };
  } catch (err) {
    await stops.run(log).catch(() => undefined);
    throw err;
  }
}
