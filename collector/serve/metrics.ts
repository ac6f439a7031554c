// Prometheus metrics on a registry of our own (several collectors can live in one process, e.g. in tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

interface GaugeSources {
  nodes(): Promise<{ reporting: number; silent: number }>;
  correlations(): Promise<Record<string, number>>;
  /** 1 while this replica leads (correlation, the cluster reader, retention), else 0. */
  leader?(): number;
}

export class CollectorMetrics {
  readonly registry = new Registry();
  readonly ingestMessages: Counter<'kind' | 'result'>;
  readonly ingestFindings: Counter;
  readonly ingestSeconds: Histogram;
  readonly httpRequests: Counter<'method' | 'route' | 'code'>;
  readonly httpSeconds: Histogram<'route'>;

  constructor(sources: GaugeSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'vigil_collector_' });
    this.ingestMessages = new Counter({
      name: 'vigil_collector_ingest_messages_total', help: 'Ingest messages by kind (full, delta) and result (applied, duplicate, invalid, error)',
      labelNames: ['kind', 'result'], registers,
    });
    this.ingestFindings = new Counter({ name: 'vigil_collector_ingest_findings_total', help: 'Findings in applied messages', registers });
    this.ingestSeconds = new Histogram({
      name: 'vigil_collector_ingest_transaction_seconds', help: 'Time to store one ingest transaction',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers,
    });
    this.httpRequests = new Counter({
      name: 'vigil_collector_http_requests_total', help: 'HTTP requests by route and status code', labelNames: ['method', 'route', 'code'], registers,
    });
    this.httpSeconds = new Histogram({
      name: 'vigil_collector_http_request_seconds', help: 'HTTP request latency by route', labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers,
    });
    new Gauge({
      name: 'vigil_collector_nodes', help: 'Nodes by status (reporting, silent)', labelNames: ['status'], registers,
      async collect() {
        const n = await sources.nodes();
        this.set({ status: 'reporting' }, n.reporting);
        this.set({ status: 'silent' }, n.silent);
      },
    });
    new Gauge({
      name: 'vigil_collector_correlations', help: 'Current correlations by kind', labelNames: ['kind'], registers,
      async collect() {
        for (const [kind, n] of Object.entries(await sources.correlations())) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'vigil_collector_leader', help: 'Whether this replica leads (correlation, the cluster reader, retention): 1 or 0', registers,
      collect() { this.set(sources.leader?.() ?? 1); },
    });
  }
}
