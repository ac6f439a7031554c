// One replica at a time leads: it correlates (and stores the result every replica serves), reads the Kubernetes API
// into node `cluster`, prunes by retention and samples the trend. PostgreSQL: a session advisory lock on a connection
// of its own (store/postgres.ts), tried every TRY_EVERY_MS by the followers and confirmed as often by the holder,
// which steps down (stops the leader's work) when its connection fails; a dead holder's connection closes and
// another replica takes over within a few seconds. SQLite: the one process is the leader. Every term is recorded
// (leader_terms: replica, started, last seen, ended), so one leader at a time can be checked.
import type { Logger } from 'pino';
import type { LeaderLease, Store } from '../store/types.js';

/** How often a follower tries to take the lease, and the leader confirms it holds it (≤ 3 s). */
const TRY_EVERY_MS = 2_000;

interface LeaderWork {
  /** Starts the leader's work for this term. */
  lead(term: number): Promise<void>;
  /** Stops it; resolves when none of it runs any more. */
  follow(): Promise<void>;
}

interface LeadershipOptions {
  replica: string;
  log: Logger;
  now: () => number;
  work: LeaderWork;
  /** Called on every transition (metrics). */
  onChange?: (leader: boolean) => void;
  everyMs?: number;
}

export class Leadership {
  private readonly lease: LeaderLease;
  private term: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private stopped = false;

  constructor(store: Store, private readonly opts: LeadershipOptions) {
    this.lease = store.leaderLease(opts.replica);
  }

  get leader(): boolean {
    return this.term !== undefined;
  }

  get replica(): string {
    return this.opts.replica;
  }

  /** Tries once now (a lone replica leads before it serves), then every everyMs. */
  async start(): Promise<void> {
    await this.step();
    this.timer = setInterval(() => { void this.step(); }, this.opts.everyMs ?? TRY_EVERY_MS);
    this.timer.unref();
  }

  /** Stops the leader's work, then releases the lease (recording the term's end). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.busy;
    if (this.term !== undefined) await this.stepDown('stopping');
    await this.lease.release(this.opts.now()).catch((err: unknown) => this.opts.log.warn({ err }, 'could not release the leader lease'));
  }

  private step(): Promise<void> {
    this.busy ??= this.once().finally(() => { this.busy = undefined; });
    return this.busy;
  }

  private async once(): Promise<void> {
    if (this.stopped) return;
    const { log, replica } = this.opts;
    if (this.term === undefined) {
      let term: number | undefined;
      try {
        term = await this.lease.tryAcquire(this.opts.now());
      } catch (err) {
        log.warn({ err }, 'leader election: could not reach the store');
        return;
      }
      if (term === undefined || this.stopped) return;
      this.term = term;
      log.info({ replica, term }, 'this replica is now the leader');
      this.opts.onChange?.(true);
      try {
        await this.opts.work.lead(term);
      } catch (err) {
        log.error({ err, term }, 'leader work failed to start');
      }
      return;
    }
    if (!(await this.lease.renew(this.opts.now()))) {
      await this.stepDown('lost the leader lease (its database connection failed)');
    }
  }

  private async stepDown(reason: string): Promise<void> {
    const term = this.term;
    this.term = undefined;
    this.opts.onChange?.(false);
    try {
      await this.opts.work.follow();
    } catch (err) {
      this.opts.log.error({ err, term }, 'stopping the leader work failed');
    }
    this.opts.log.info({ replica: this.opts.replica, term, reason }, 'this replica is no longer the leader');
  }
}
