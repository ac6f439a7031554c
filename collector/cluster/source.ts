// The collector's internal source of cluster findings: reflectors keep the model current, every change (debounced)
// re-runs the cluster checks, and what changed goes to the store through the collector's ingest path as the
// messages of node `cluster` — a full snapshot first and every fullIntervalMs (so the node never looks silent),
// deltas in between. No agent can write that node (the ingest path refuses it to them).
//
// Several collector replicas may read the same API and write the same store: each computes the same findings,
// the store applies whatever comes with a newer seq, and a replica that finds its seq already taken (a
// duplicate) takes the stored seq and sends a full snapshot next, which converges on the same state.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Backoff } from '../../common/backoff.js';
import { summarize, type Finding } from '../../proto/report.js';
import { VIGIL_VERSION } from '../../proto/version.js';
import type { IngestMessage, IngestResult } from '../store/messages.js';
import { CLUSTER_NODE, EMPTY_NODE_VIEW, evaluateChecks, type NodeView } from './checks/catalogue.js';
import { CLUSTER_CHECKS } from './checks/index.js';
import { ClusterModel, type ClusterSnapshot } from './model.js';
import { Reflector, type ReflectorOptions } from './reflector.js';
import { watchedResources, type WatchedResource } from './resources.js';

/** Where messages go: the collector's ingest function. */
export interface ClusterSink {
  ingest(message: IngestMessage): Promise<IngestResult>;
  lastSeq(node: string): Promise<number | undefined>;
}

export interface ClusterSourceOptions {
  kubeConfig: KubeConfig;
  sink: ClusterSink;
  log: Logger;
  /** The agents' container findings the checks join with. */
  nodeView?: () => Promise<NodeView>;
  /** Called after each evaluation (the correlation engine marks itself dirty). */
  onEvaluated?: () => void;
  /** A full snapshot at least this often (the agents' report interval). */
  fullIntervalMs: number;
  /** Quiet time after a change before evaluating; changes keep coming: at most maxDelayMs after the first. */
  debounceMs?: number;
  maxDelayMs?: number;
  /** After the agents' findings change, how long to wait before joining them again (they change often). */
  nodeViewDelayMs?: number;
  /** The first report waits for every kind's first list, at most this long. */
  settleTimeoutMs?: number;
  reflector?: ReflectorOptions;
  now?: () => number;
  /** Tests: a subset of the collections. */
  resources?: (kc: KubeConfig) => WatchedResource[];
}

export class ClusterSource {
  readonly model = new ClusterModel();
  private readonly reflectors: Reflector[];
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private nodeTimer: NodeJS.Timeout | undefined;
  private fullTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private firstChangeAt: number | undefined;
  private running: Promise<void> | undefined;
  private pending = false;
  private stopped = false;
  private settled = false;
  /** What the store holds from us (as far as we know): finding id → JSON. */
  private sent = new Map<string, string>();
  private needFull = true;
  private lastFull = 0;
  private seq: number | undefined;
  private readonly retry = new Backoff({ baseMs: 1_000, maxMs: 30_000 });
  private latest: ClusterSnapshot | undefined;
  private nodeView: NodeView = EMPTY_NODE_VIEW;

  constructor(private readonly opts: ClusterSourceOptions) {
    this.log = opts.log.child({ component: 'cluster' });
    const watch = new Watch(opts.kubeConfig);
    const resources = (opts.resources ?? watchedResources)(opts.kubeConfig);
    this.reflectors = resources.map((r) => new Reflector(r, this.model, watch, this.log, opts.reflector));
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  start(): void {
    this.model.onChange(() => this.schedule());
    for (const r of this.reflectors) r.start();
    this.settleTimer = setTimeout(() => {
      if (!this.settled) this.log.warn({ kinds: this.model.snapshot().kinds }, 'not every kind could be listed; reporting what could');
      this.settled = true;
      this.schedule(0);
    }, this.opts.settleTimeoutMs ?? 30_000);
    this.fullTimer = setInterval(() => { this.needFull = true; this.schedule(0); }, this.opts.fullIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.nodeTimer);
    clearTimeout(this.settleTimer);
    clearInterval(this.fullTimer);
    await Promise.all(this.reflectors.map((r) => r.stop()));
    await this.running;
  }

  /** The agents' findings changed: the 5.4.1 join may too. Many changes in a row make one evaluation. */
  nodesChanged(): void {
    if (this.nodeTimer || this.stopped) return;
    this.nodeTimer = setTimeout(() => { this.nodeTimer = undefined; this.schedule(0); }, this.opts.nodeViewDelayMs ?? 10_000);
  }

  /** The last evaluated snapshot; undefined until the first evaluation (the model is not complete before). */
  snapshot(): ClusterSnapshot | undefined {
    return this.latest;
  }

  /** Waits until what the model holds now has been evaluated and stored (tests). */
  async idle(): Promise<void> {
    while (!this.stopped && (this.timer !== undefined || this.running || this.pending || this.latest?.version !== this.model.version)) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private schedule(delayMs?: number): void {
    if (this.stopped) return;
    if (!this.settled && this.model.settled()) this.settled = true;
    if (!this.settled) return;
    const now = this.now();
    this.firstChangeAt ??= now;
    const maxDelay = this.opts.maxDelayMs ?? 2_000;
    const wait = Math.min(delayMs ?? this.opts.debounceMs ?? 250, Math.max(0, this.firstChangeAt + maxDelay - now));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; this.run(); }, wait);
  }

  private run(): void {
    if (this.running) { this.pending = true; return; }
    this.firstChangeAt = undefined;
    this.running = this.evaluateAndSend()
      .catch((err: unknown) => {
        this.needFull = true;
        const wait = this.retry.next();
        this.log.warn({ err, retryInMs: wait }, 'could not store cluster findings');
        if (!this.stopped) this.timer = setTimeout(() => { this.timer = undefined; this.run(); }, wait);
      })
      .finally(() => {
        this.running = undefined;
        if (this.pending) { this.pending = false; this.schedule(); }
      });
  }

  private async evaluateAndSend(): Promise<void> {
    const snapshot = this.model.snapshot();
    if (this.opts.nodeView) {
      try {
        this.nodeView = await this.opts.nodeView();
      } catch (err) {
        this.log.warn({ err }, "could not read the agents' findings; judging with the last ones read");
      }
    }
    const findings = evaluateChecks(CLUSTER_CHECKS, { snapshot, nodes: this.nodeView });
    this.latest = snapshot;
    this.opts.onEvaluated?.();
    const now = this.now();
    const full = this.needFull || now - this.lastFull >= this.opts.fullIntervalMs;
    const message = full ? this.fullMessage(findings, snapshot, now) : this.delta(findings, now);
    if (!message) return;
    this.seq ??= (await this.opts.sink.lastSeq(CLUSTER_NODE)) ?? 0;
    message.seq = ++this.seq;
    const result = await this.opts.sink.ingest(message);
    if (result.duplicate) {
      // Another replica stored this seq first: continue after it, with a full snapshot.
      this.seq = Math.max(this.seq, result.lastSeq ?? 0);
      this.needFull = true;
      this.pending = true;
      return;
    }
    this.retry.reset();
    this.sent = new Map(findings.map((f) => [f.id, JSON.stringify(f)]));
    if (full) { this.needFull = false; this.lastFull = now; }
    this.log.debug({ kind: message.kind, seq: message.seq, findings: findings.length }, 'cluster findings stored');
  }

  private fullMessage(findings: Finding[], snapshot: ClusterSnapshot, now: number): IngestMessage {
    return {
      kind: 'full',
      node: CLUSTER_NODE,
      report: {
        schemaVersion: 1,
        node: {
          name: CLUSTER_NODE,
          roles: ['cluster'],
          agentVersion: VIGIL_VERSION,
          source: 'kubernetes-api',
          kinds: Object.fromEntries(Object.entries(snapshot.kinds).map(([k, s]) => [k, s.status])),
        },
        scannedAt: new Date(now).toISOString(),
        findings,
        summary: summarize(findings),
      },
    };
  }

  /** What changed since the last stored message; undefined when nothing did. */
  private delta(findings: Finding[], now: number): IngestMessage | undefined {
    const current = new Set(findings.map((f) => f.id));
    const upserts = findings.filter((f) => this.sent.get(f.id) !== JSON.stringify(f));
    const resolved = [...this.sent.keys()].filter((id) => !current.has(id));
    if (upserts.length === 0 && resolved.length === 0) return undefined;
    return { kind: 'delta', node: CLUSTER_NODE, seq: 0, scannedAt: new Date(now).toISOString(), upserts, resolved };
  }
}
