// The leader stores its correlation result (fenced by its term) and a follower serves exactly that result; on SQLite
// the lease is always granted (one process) and terms are recorded as on PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorrelationEngine } from '../../../collector/correlate/engine.js';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import { tempDir } from '../../harness/integration.js';
import { finding, full, report, T0 } from './helpers.js';

describe('correlation leader and followers (SQLite)', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = tempDir('leader-engine');
    store = new SqliteStore(dir.path, { synchronous: 'NORMAL' });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  const engine = (replica: string) => new CorrelationEngine(store, {
    silentAfterMs: 3_600_000, minIntervalMs: 0, maxAgeMs: 3_600_000, scoreHistoryIntervalMs: 3_600_000, replica, now: () => T0 + 1000,
  });
  const anon = (v: boolean) => finding({ checkId: 'cis-4.2.1', cis: '4.2.1', severity: 'high', value: v, status: v ? 'fail' : 'pass' });

  it('a follower serves what the leader stored; a stale term cannot overwrite it', async () => {
    const leader = engine('a');
    const follower = engine('b');
    store.observe((c) => { leader.stored(c); follower.stored(c); });
    const term = (await store.leaderLease('a').tryAcquire(T0))!;
    expect(term).toBe(1);
    await leader.lead(term);
    expect((await leader.current()).items).toEqual([]);
    await store.applyBatch([full(report('w1', [anon(false)])), full(report('w2', [anon(false)])), full(report('w3', [anon(true)]))], T0);
    // Asked again until past the least interval between two runs (5× the last run's duration, longer under load).
    let led = await leader.current();
    for (const deadline = Date.now() + 5_000; led.items.length === 0 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 20));
      led = await leader.current();
    }
    expect(led.items.map((c) => c.id)).toEqual([expect.stringMatching(/^drift:worker:cis-4\.2\.1:.*:w3$/)]);
    const followed = await follower.current();
    expect(followed).toEqual(led);
    expect(await store.correlationHead()).toMatchObject({ term: 1, replica: 'a', computedAt: led.computedAt });

    // A newer term (another replica took over): the old leader's results are refused.
    expect(await store.leaderLease('b').tryAcquire(T0)).toBe(2);
    expect(await store.saveCorrelations(1, { computedAt: 5, ms: 0, replica: 'a', score: null, upserts: [], deletes: [led.items[0].id] })).toBe(false);
    expect((await store.storedCorrelations()).items.map((i) => i.id)).toEqual([led.items[0].id]);
    expect((await store.leaderTerms()).map((t) => [t.term, t.replica])).toEqual([[1, 'a'], [2, 'b']]);
    await leader.stop();
  });
  it('a query waits for the pass that includes the last stored change, even when a pass was under way', async () => {
    // The settings read of the pass under way is held back until after the next change is stored: that pass
    // cannot see the change, so the query must not answer with it.
    let gate: Promise<void> | undefined;
    let release!: () => void;
    let readDone!: () => void;
    const read = new Promise<void>((r) => { readDone = r; });
    const gated = new Proxy(store, {
      get(target, key) {
        const value = Reflect.get(target, key, target) as unknown;
        if (key === 'settingsOf') {
          return async (...args: Parameters<SqliteStore['settingsOf']>) => {
            const rows = await target.settingsOf(...args);
            if (gate) { readDone(); await gate; }
            return rows;
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const leader = new CorrelationEngine(gated, {
      silentAfterMs: 3_600_000, minIntervalMs: 0, maxAgeMs: 3_600_000, scoreHistoryIntervalMs: 3_600_000, replica: 'a', now: () => T0 + 1000,
    });
    store.observe((c) => leader.stored(c));
    await leader.lead((await store.leaderLease('a').tryAcquire(T0))!);
    expect((await leader.current()).items).toEqual([]);

    gate = new Promise<void>((r) => { release = r; });
    await store.applyBatch([full(report('w1', [anon(false)])), full(report('w2', [anon(false)])), full(report('w3', [anon(false)]))], T0);
    const before = leader.current();
    await read;
    await store.applyBatch([full(report('w3', [anon(true)], { scannedAt: new Date(T0 + 500).toISOString() }), 2)], T0 + 500);
    const answer = leader.current();
    release();
    gate = undefined;
    expect((await before).items).toEqual([]);
    expect((await answer).items.map((c) => c.id)).toEqual([expect.stringMatching(/^drift:worker:cis-4\.2\.1:.*:w3$/)]);
    await leader.stop();
  });
});
