// The store's upkeep while the collector runs: resolved findings past --retention are deleted hourly and the trend
// gets a sample every few minutes (both by the leader only: lead()/follow()), and every replica refreshes its query
// planner's statistics as the data grows.
import type { Logger } from 'pino';
import type { CorrelationEngine } from '../correlate/engine.js';
import { TREND_KEEP_MS, trendSampleOf } from '../store/trend.js';
import type { Store } from '../store/types.js';

const RETENTION_SWEEP_MS = 60 * 60 * 1000;
/** The trend keeps one point per hour: the last of these samples within it. */
const TREND_SAMPLE_MS = 5 * 60 * 1000;
/** Planner statistics follow the data: refreshed after this many applied findings. */
const OPTIMIZE_EVERY = 200_000;

export class Housekeeping {
  private timer: NodeJS.Timeout | undefined;
  private trendTimer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private findingsSinceOptimize = 0;
  private optimizing: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly engine: CorrelationEngine,
    private readonly log: Logger,
    private readonly opts: { retentionMs: number; now: () => number },
  ) {}

  /** The leader's part: sweeps once now, then every hour; samples the trend now, then every TREND_SAMPLE_MS. */
  async start(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.trendTimer);
    await this.sweep();
    this.timer = setInterval(() => { void this.sweep(); }, RETENTION_SWEEP_MS);
    this.timer.unref();
    await this.sampleTrend();
    this.trendTimer = setInterval(() => { void this.sampleTrend(); }, TREND_SAMPLE_MS);
    this.trendTimer.unref();
  }

  /** Counts applied findings; refreshes the planner's statistics every OPTIMIZE_EVERY of them. */
  applied(findings: number): void {
    this.findingsSinceOptimize += findings;
    if (this.findingsSinceOptimize >= OPTIMIZE_EVERY) this.optimize();
  }

  /** Stops the leader's part: the timers, and waits for a sweep or sample in progress. */
  async follow(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.trendTimer);
    this.timer = undefined;
    this.trendTimer = undefined;
    await this.sweeping;
    await this.sampling;
  }

  /** Stops everything and waits for work in progress, so the store can be closed. */
  async stop(): Promise<void> {
    await this.follow();
    await this.optimizing;
  }

  /** The open findings now, as this hour's trend point; points older than 30 days (or --retention) are deleted. */
  private sampleTrend(): Promise<void> {
    this.sampling ??= (async () => {
      try {
        const now = this.opts.now();
        await this.store.recordTrend(trendSampleOf(await this.store.openCounts(), now));
        await this.store.pruneTrend(now - Math.min(TREND_KEEP_MS, this.opts.retentionMs));
      } catch (err) {
        this.log.warn({ err }, 'trend sample failed');
      }
    })().finally(() => { this.sampling = undefined; });
    return this.sampling;
  }

  private sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const purged = await this.store.purgeResolved(this.opts.now() - this.opts.retentionMs);
        if (purged > 0) {
          this.log.info({ purged }, 'retention: resolved findings deleted');
          this.engine.markDirty();
        }
        this.optimize();
      } catch (err) {
        this.log.warn({ err }, 'retention sweep failed');
      }
    })().finally(() => { this.sweeping = undefined; });
    return this.sweeping;
  }

  private optimize(): void {
    if (this.optimizing) return;
    this.findingsSinceOptimize = 0;
    this.optimizing = this.store.optimize()
      .catch((err: unknown) => this.log.warn({ err }, 'store optimize failed'))
      .finally(() => { this.optimizing = undefined; });
  }
}
