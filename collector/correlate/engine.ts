// Correlations and the score, the same from every replica. The leader (app/leadership.ts; with SQLite the one
// process) computes them — incrementally from what each committed transaction touched (the store's observers hear
// every replica's commits), in full at leadership start and every repair interval — and stores each result (fenced by
// its term) for every replica to serve. Followers serve the stored result. The leader recomputes after ingest at most
// every minIntervalMs, and when the result is older than maxAgeMs (silence is a matter of time, not of ingest).
import type { ClusterSnapshot } from '../cluster/model.js';
import type { Logger } from '../log.js';
import type { Store, StoredChanges } from '../store/types.js';
import { IncrementalCorrelator } from './incremental.js';
import { sortCorrelations } from './rules.js';
import type { ClusterScore } from './score.js';
import type { Correlation } from './types.js';

export interface CorrelationSnapshot {
  computedAt: number;
  /** How long the computation took. */
  ms: number;
  items: Correlation[];
  score: ClusterScore;
}

/** Above this, queries do not wait for a recomputation when a previous result exists. */
const SLOW_COMPUTE_MS = 500;
/** A follower looks for a newer stored result at most this often. */
const FOLLOWER_CHECK_MS = 500;
const DEFAULT_REPAIR_INTERVAL_MS = 10 * 60 * 1000;

interface EngineOptions {
  silentAfterMs: number;
  minIntervalMs: number;
  maxAgeMs: number;
  /** How often a cluster score point is kept for history. */
  scoreHistoryIntervalMs: number;
  /** How often the leader recomputes everything from a full read (repair); default 10 minutes. */
  repairIntervalMs?: number;
  /** This replica's id, recorded with each stored result. */
  replica?: string;
  now?: () => number;
  log?: Logger;
  /** The Kubernetes API's picture, when the collector reads it (undefined until it has been read once). */
  cluster?: () => ClusterSnapshot | undefined;
  /** Called with every new result (the live feed announces one that differs from the last). */
  onComputed?: (snapshot: CorrelationSnapshot) => void;
}

export class CorrelationEngine {
  private latest: CorrelationSnapshot | undefined;
  /** When `latest` was computed, on the monotonic clock: how often to recompute is a matter of real time. */
  private latestAt = -Infinity;
  /** The pass a new leader starts with does not hold back the next one (it ran before anyone asked). */
  private unthrottled = false;
  private dirty = true;
  private running: Promise<CorrelationSnapshot> | undefined;
  private lastScorePoint = 0;
  private readonly correlator: IncrementalCorrelator;
  /** Nodes whose findings changed since the last pass; `full` when more changed than a notice names. */
  private touched = new Set<string>();
  private full = true;
  private lastRepair = 0;
  /** Leader: its term (every stored result is fenced by it); undefined on a follower. */
  private term: number | undefined;
  /** Leader: what the store holds (id → body), to write only what changed. */
  private saved: Map<string, string> | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** Follower: the stored version `latest` is, and when the store was last asked. */
  private version = -1;
  private checkedAt = 0;

  constructor(private readonly store: Store, private readonly opts: EngineOptions) {
    this.correlator = new IncrementalCorrelator(store, { silentAfterMs: opts.silentAfterMs, cluster: opts.cluster });
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  get leading(): boolean {
    return this.term !== undefined;
  }

  /** Something changed that no store notice names (a sweep, the cluster's picture): the next pass looks again. */
  markDirty(): void {
    this.dirty = true;
  }

  /** A committed transaction (this replica's or another's): its nodes are re-correlated on the next pass. */
  stored(changes: StoredChanges): void {
    this.dirty = true;
    if (changes.truncated) this.full = true;
    for (const n of changes.nodes) this.touched.add(n);
  }

  /** Becomes the leader for `term`: a full recompute now, then results stored as they change. */
  lead(term: number): Promise<void> {
    this.term = term;
    this.saved = undefined;
    this.full = true;
    this.dirty = true;
    const tickMs = Math.max(50, Math.min(this.opts.minIntervalMs, 1_000));
    clearInterval(this.ticker);
    this.unthrottled = true;
    this.ticker = setInterval(() => { void this.tick(); }, tickMs);
    this.ticker.unref();
    void this.refreshNow().catch(() => undefined);
    return Promise.resolve();
  }

  /** Stops leading: no more computing or storing (waits for a pass under way). */
  async follow(): Promise<void> {
    this.term = undefined;
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.version = -1;
    await this.running?.catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.follow();
  }

  /** Whether the result in hand may be served: not older than maxAgeMs, and nothing changed or it is younger than the least interval. */
  private isFresh(forQuery = false): boolean {
    const latest = this.latest;
    if (!latest) return false;
    // In the background, a computation that takes T ms runs at most every 5 T: correlation never eats more than a
    // fifth of the CPU. A query asks for what is stored now: it waits only for --correlate-interval.
    const minInterval = forQuery ? this.opts.minIntervalMs : Math.max(this.opts.minIntervalMs, 5 * latest.ms);
    return this.now() - latest.computedAt < this.opts.maxAgeMs && (!this.dirty || performance.now() - this.latestAt < minInterval);
  }

  private async tick(): Promise<void> {
    if (!this.leading || this.running) return;
    const repairDue = this.now() - this.lastRepair >= (this.opts.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS);
    if (!this.isFresh() || repairDue) {
      await this.refreshNow().catch(() => undefined);
    }
  }

  private refreshNow(): Promise<CorrelationSnapshot> {
    if (!this.running) {
      this.running = this.compute().finally(() => { this.running = undefined; });
      this.running.catch((err: unknown) => this.opts.log?.error({ err }, 'correlation failed'));
    }
    return this.running;
  }

  /** Resolves once no pass runs and none is due (benchmarks time queries on a quiet engine); a failed pass throws. */
  async settled(): Promise<void> {
    while (this.running || (this.leading && this.dirty)) await (this.running ?? this.refreshNow());
  }

  /** A full recompute now, as a new leader's first pass (after any pass under way). */
  async repair(): Promise<CorrelationSnapshot> {
    await this.settled();
    this.full = true;
    return this.refreshNow();
  }

  async current(): Promise<CorrelationSnapshot> {
    if (!this.leading) {
      const stored = await this.fromStore();
      if (stored) return stored;
      // No leader has stored a result yet: a stand-in computed here (not stored) until one has.
    }
    const latest = this.latest;
    if (latest && this.isFresh(true)) return latest;
    // A pass under way may have read the store before the change that made this one dirty: then one more after it.
    if (this.running && latest && latest.ms <= SLOW_COMPUTE_MS) {
      await this.running.catch(() => undefined);
      if (this.latest && this.isFresh(true)) return this.latest;
    }
    const running = this.refreshNow();
    // On a large cluster, answer with the previous result (its computedAt says how old) while the next one runs.
    if (latest && latest.ms > SLOW_COMPUTE_MS) return latest;
    return running;
  }

  /** Follower: the stored result, read again when its version changed. Undefined while none is stored. */
  private async fromStore(): Promise<CorrelationSnapshot | undefined> {
    const now = Date.now();
    if (this.latest && this.version > 0 && now - this.checkedAt < FOLLOWER_CHECK_MS) return this.latest;
    const head = await this.store.correlationHead();
    this.checkedAt = now;
    if (head.version === 0) {
      this.version = 0;
      return undefined;
    }
    if (head.version !== this.version || !this.latest) {
      const stored = await this.store.storedCorrelations();
      const items = sortCorrelations(stored.items.map((i) => JSON.parse(i.body) as Correlation));
      this.latest = { computedAt: stored.computedAt, ms: stored.ms, items, score: stored.score as ClusterScore };
      this.version = stored.version;
      this.opts.onComputed?.(this.latest);
    }
    return this.latest;
  }

  private async compute(): Promise<CorrelationSnapshot> {
    const now = this.now();
    const repair = this.full || now - this.lastRepair >= (this.opts.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS) || !this.correlator.ready;
    const touched = this.touched;
    this.touched = new Set();
    this.full = false;
    this.dirty = false;
    const started = performance.now();
    let result;
    try {
      result = repair ? await this.correlator.refresh(now) : await this.correlator.update(touched, now);
    } catch (err) {
      this.dirty = true;
      this.full = true;
      throw err;
    }
    if (repair) this.lastRepair = now;
    const snapshot: CorrelationSnapshot = { computedAt: now, ms: Math.round(performance.now() - started), ...result };
    await this.publish(snapshot);
    this.latest = snapshot;
    this.latestAt = this.unthrottled ? -Infinity : performance.now();
    this.unthrottled = false;
    this.opts.onComputed?.(snapshot);
    this.opts.log?.debug({ correlations: snapshot.items.length, ms: snapshot.ms, repair, touched: touched.size }, 'correlations computed');
    if (this.leading && snapshot.score.nodes.length > 0 && now - this.lastScorePoint >= this.opts.scoreHistoryIntervalMs) {
      this.lastScorePoint = now;
      const { cluster, components, sections } = snapshot.score;
      await this.store.recordClusterScore(now, { cluster, components, sections })
        .catch((err: unknown) => this.opts.log?.warn({ err }, 'could not record the cluster score'));
    }
    return snapshot;
  }

  /** Leader: stores what changed in the result, fenced by its term. A follower computing a stand-in stores nothing. */
  private async publish(snapshot: CorrelationSnapshot): Promise<void> {
    const term = this.term;
    if (term === undefined) return;
    try {
      if (!this.saved) this.saved = new Map((await this.store.storedCorrelations()).items.map((i) => [i.id, i.body]));
      const saved = this.saved;
      const bodies = new Map(snapshot.items.map((c) => [c.id, JSON.stringify(c)]));
      const upserts = [...bodies].filter(([id, body]) => saved.get(id) !== body).map(([id, body]) => ({ id, body }));
      const deletes = [...saved.keys()].filter((id) => !bodies.has(id));
      const written = await this.store.saveCorrelations(term, {
        computedAt: snapshot.computedAt, ms: snapshot.ms, replica: this.opts.replica ?? 'local', score: snapshot.score, upserts, deletes,
      });
      if (written) {
        this.saved = bodies;
      } else {
        this.saved = undefined;
        this.opts.log?.warn({ term }, 'a newer leader term exists: this result was not stored');
      }
    } catch (err) {
      this.saved = undefined;
      this.opts.log?.warn({ err }, 'could not store the correlation result');
    }
  }
}
