// The daemon's /metrics (prom-client, its own registry) and /healthz, on --metrics-listen.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parseHostPort } from '../../common/address.js';
import { STATUSES } from '../../proto/findings.js';
import type { NodeReport } from '../../proto/report.js';
import type { Outbox } from './outbox.js';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly scans = new Counter({ name: 'vigil_agent_scans_total', help: 'Scans run', labelNames: ['trigger', 'result'], registers: [this.registry] });
  readonly scanDuration = new Histogram({
    name: 'vigil_agent_scan_duration_seconds', help: 'Scan duration (gather + evaluate)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  readonly findings = new Gauge({ name: 'vigil_agent_findings', help: 'Current findings by status', labelNames: ['status'], registers: [this.registry] });
  readonly deltas = new Counter({ name: 'vigil_agent_deltas_total', help: 'Deltas queued', registers: [this.registry] });
  readonly reconnects = new Counter({ name: 'vigil_agent_reconnects_total', help: 'Transport reconnections', labelNames: ['transport'], registers: [this.registry] });
  readonly rejected = new Counter({ name: 'vigil_agent_rejected_messages_total', help: 'Messages the collector refused as invalid (dropped)', labelNames: ['transport'], registers: [this.registry] });
  readonly resyncs = new Counter({ name: 'vigil_agent_resync_requests_total', help: 'Full snapshots requested by the collector', registers: [this.registry] });
  readonly watchPolling = new Gauge({ name: 'vigil_agent_watch_polling', help: '1 when file watching fell back to polling', registers: [this.registry] });
  readonly fastPathSeconds = new Counter({ name: 'vigil_agent_fast_path_seconds_total', help: "Time spent in the fast path's probes and polls", registers: [this.registry] });
  readonly fastPathChanges = new Counter({ name: 'vigil_agent_fast_path_changes_total', help: 'Changes the fast path acted on, by what changed', labelNames: ['change'], registers: [this.registry] });
  readonly containerEvents = new Counter({ name: 'vigil_agent_container_events_total', help: 'Container runtime events received', labelNames: ['topic'], registers: [this.registry] });
  readonly containerEventsSubscribed = new Gauge({ name: 'vigil_agent_container_events_subscribed', help: "1 while subscribed to the container runtime's events", registers: [this.registry] });
  readonly outboxWriteErrors = new Counter({ name: 'vigil_agent_outbox_write_errors_total', help: 'Outbox writes that failed (ENOSPC, EIO, …); the message stays in memory', labelNames: ['code'], registers: [this.registry] });
  readonly outboxUnreadable = new Counter({ name: 'vigil_agent_outbox_unreadable_entries_total', help: 'Outbox entries found torn or unreadable at start and dropped', registers: [this.registry] });

  constructor(outbox: () => Outbox | undefined) {
    const reg = [this.registry];
    new Gauge({ name: 'vigil_agent_outbox_depth', help: 'Messages waiting in the outbox', registers: reg, collect() { this.set(outbox()?.depth ?? 0); } });
    new Gauge({ name: 'vigil_agent_outbox_bytes', help: 'Bytes waiting in the outbox', registers: reg, collect() { this.set(outbox()?.bytes ?? 0); } });
    new Gauge({ name: 'vigil_agent_outbox_folded_deltas', help: 'Deltas folded into a full snapshot because the outbox was full (since the outbox was created)', registers: reg, collect() { this.set(outbox()?.foldedDeltas ?? 0); } });
    new Gauge({ name: 'vigil_agent_outbox_degraded', help: '1 while the outbox cannot write to its disk (messages held in memory)', registers: reg, collect() { this.set(outbox()?.degraded ? 1 : 0); } });
    new Gauge({ name: 'vigil_agent_last_seq', help: 'Last sequence number assigned', registers: reg, collect() { this.set(outbox()?.lastSeq ?? 0); } });
    // The event-loop-delay histogram samples with a timer; prom-client's 10 ms default wakes an idle agent 100 times a second.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 500 });
  }

  setFindings(report: NodeReport): void {
    for (const s of STATUSES) this.findings.set({ status: s }, report.summary[s]);
  }
}

interface Health { ok: boolean; detail: Record<string, unknown> }

/** `addr` is HOST:PORT, [v6]:PORT or :PORT (every interface). */
export async function serveMetrics(addr: string, metrics: AgentMetrics, health: () => Health): Promise<{ server: Server; port: number }> {
  const { host, port } = parseHostPort(addr);
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') { res.writeHead(405).end(); return; }
    if (url === '/metrics') {
      metrics.registry.metrics().then((body) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
      }, () => res.writeHead(500).end());
    } else if (url === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', ...h.detail }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host || '0.0.0.0', () => resolve()); });
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : port };
}
