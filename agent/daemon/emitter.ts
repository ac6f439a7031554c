// What leaves the node, as the collector must see it: a full snapshot at start, then only differences as
// deltas, a full snapshot at least every --full-interval (liveness while nothing changes, drift repair) and
// whenever the collector asks for one. Everything goes through the durable outbox.
import type { Logger } from 'pino';
import type { NodeReport } from '../../proto/report.js';
import type { Envelope } from '../../proto/wire.js';
import { diffReports, isEmptyDelta } from '../diff/index.js';
import type { AgentMetrics } from '../ship/metrics.js';
import type { Outbox } from '../ship/outbox.js';

interface OutboxEmitterOptions {
  outbox: Outbox;
  metrics: AgentMetrics;
  log: Logger;
  fullIntervalMs: number;
  /** The clock (tests); Date.now by default. */
  now?: () => number;
}

export class OutboxEmitter {
  private readonly now: () => number;
  private lastFullAt: number;

  /** `current`: the report the collector holds once everything queued is delivered. */
  constructor(private readonly opts: OutboxEmitterOptions, private current: NodeReport) {
    this.now = opts.now ?? Date.now;
    this.lastFullAt = this.now();
    opts.metrics.setFindings(current);
  }

  /** Queues a full snapshot of the current state. */
  full(): Envelope {
    this.lastFullAt = this.now();
    return this.opts.outbox.append({ kind: 'full', report: this.current }, () => this.current);
  }

  /** The collector asked for a full snapshot (it has a gap, or lost its state). */
  resync(reason: string): void {
    this.opts.metrics.resyncs.inc();
    const e = this.full();
    this.opts.log.info({ reason, seq: e.seq }, 'collector asked for a full snapshot');
  }

  /** A scan produced `next`: queues the difference, or a full snapshot when an interval scan finds one due. */
  scanned(next: NodeReport, trigger: string, paths: string[]): void {
    const { outbox, metrics, log } = this.opts;
    const delta = diffReports(this.current, next);
    this.current = next;
    metrics.setFindings(next);
    if (trigger === 'interval' && this.now() - this.lastFullAt >= this.opts.fullIntervalMs) {
      const e = this.full();
      log.info({ seq: e.seq, findings: next.findings.length, changed: !isEmptyDelta(delta) }, 'periodic full snapshot queued');
      return;
    }
    if (isEmptyDelta(delta)) return;
    const e = outbox.append({ kind: 'delta', delta }, () => this.current);
    metrics.deltas.inc();
    log.info({ seq: e.seq, kind: e.payload.kind, trigger, added: delta.added.length, changed: delta.changed.length,
      resolved: delta.resolved.length, paths: paths.slice(0, 5) }, 'change queued');
  }
}
