// Computes correlations and the score from the store on demand, caching the result: recomputed after ingest
// (at most every minIntervalMs) and when older than maxAgeMs (silence is a matter of time, not of ingest).
import type { ClusterSnapshot } from '../cluster/model.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import { FACT_INPUTS, FACT_SELECTOR } from './facts.js';
import { correlate } from './rules.js';
import { computeScore, type ClusterScore } from './score.js';
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

interface EngineOptions {
  silentAfterMs: number;
  minIntervalMs: number;
  maxAgeMs: number;
  /** How often a cluster score point is kept for history. */
  scoreHistoryIntervalMs: number;
  now?: () => number;
  log?: Logger;
  /** The Kubernetes API's picture, when the collector reads it (undefined until it has been read once). */
  cluster?: () => ClusterSnapshot | undefined;
  /** Called with every new result (the live feed announces one that differs from the last). */
  onComputed?: (snapshot: CorrelationSnapshot) => void;
}

export class CorrelationEngine {
  private latest: CorrelationSnapshot | undefined;
  private dirty = true;
  private running: Promise<CorrelationSnapshot> | undefined;
  private lastScorePoint = 0;

  constructor(private readonly store: Store, private readonly opts: EngineOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  markDirty(): void {
    this.dirty = true;
  }

  async current(): Promise<CorrelationSnapshot> {
    const latest = this.latest;
    const age = latest ? this.now() - latest.computedAt : Infinity;
    // A computation that takes T ms runs at most every 5 T: correlation never eats more than a fifth of the CPU.
    const minInterval = Math.max(this.opts.minIntervalMs, 5 * (latest?.ms ?? 0));
    const fresh = latest && age < this.opts.maxAgeMs && (!this.dirty || age < minInterval);
    if (fresh) return latest;
    if (!this.running) {
      this.running = this.compute().finally(() => { this.running = undefined; });
      this.running.catch((err: unknown) => this.opts.log?.error({ err }, 'correlation failed'));
    }
    // On a large cluster, answer with the previous result (its computedAt says how old) while the next one runs.
    if (latest && latest.ms > SLOW_COMPUTE_MS) return latest;
    return this.running;
  }

  private async compute(): Promise<CorrelationSnapshot> {
    this.dirty = false;
    const started = performance.now();
    const now = this.now();
    let nodes, facts, settings, checks;
    try {
      [nodes, facts, settings, checks] = await Promise.all([
        this.store.allNodes(),
        this.store.facts(FACT_SELECTOR),
        this.store.settings([...FACT_INPUTS.driftResourceKinds]),
        this.store.checks(),
      ]);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
    const checkTitles = new Map(checks.map((c) => [c.checkId, c.title]));
    const cluster = this.opts.cluster?.();
    const items = correlate({ now, silentAfterMs: this.opts.silentAfterMs, nodes, facts, settings, checkTitles, ...(cluster ? { cluster } : {}) });
    const score = computeScore(nodes, checks);
    const snapshot: CorrelationSnapshot = { computedAt: now, ms: Math.round(performance.now() - started), items, score };
    this.latest = snapshot;
    this.opts.onComputed?.(snapshot);
    this.opts.log?.debug({ correlations: items.length, ms: snapshot.ms }, 'correlations computed');
    if (nodes.length > 0 && now - this.lastScorePoint >= this.opts.scoreHistoryIntervalMs) {
      this.lastScorePoint = now;
      const { cluster, components, sections } = score;
      await this.store.recordClusterScore(now, { cluster, components, sections })
        .catch((err: unknown) => this.opts.log?.warn({ err }, 'could not record the cluster score'));
    }
    return snapshot;
  }
}
