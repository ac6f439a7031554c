// The leader lease on a real PostgreSQL: one holder at a time, a holder whose connection is cut loses it (and finds
// out on its next renewal), another replica takes it with the next term, and the old holder's writes are fenced.
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresStore } from '../../../collector/store/postgres.js';
import { describeWithDaemons } from '../../harness/integration.js';
import { postgresBinaries, startPostgres, type PostgresServer } from '../../harness/postgres.js';

const write = (replica: string) => ({ computedAt: 1, ms: 1, replica, score: { cluster: 1 }, upserts: [{ id: 'a', body: '{"id":"a"}' }], deletes: [] });

describeWithDaemons('leader lease (real PostgreSQL)', postgresBinaries, () => {
  let server: PostgresServer;
  let url: string;
  const stores: PostgresStore[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase('lease');
    for (let i = 0; i < 2; i++) {
      const store = new PostgresStore(url);
      await store.migrate();
      stores.push(store);
    }
  }, 60_000);

  afterAll(async () => {
    for (const s of stores) await s.close();
    await server?.stop();
  });

  it('grants one holder at a time, fences a holder that lost its connection, and records every term', async () => {
    const [a, b] = stores;
    const leaseA = a.leaderLease('replica-a');
    const leaseB = b.leaderLease('replica-b');
    expect(await leaseA.tryAcquire(0)).toBe(1);
    expect(await leaseB.tryAcquire(0)).toBeUndefined();
    expect(await leaseA.renew(0)).toBe(true);
    expect(await a.saveCorrelations(1, write('replica-a'))).toBe(true);

    // Cut A's lease connection as a dead process or a broken network would.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`);
      expect(rows).toHaveLength(1);
    } finally {
      await admin.end();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await leaseB.tryAcquire(0)).toBe(2);
    expect(await leaseA.renew(0)).toBe(false);
    // A, no longer the leader, cannot overwrite what B stores.
    expect(await a.saveCorrelations(1, write('replica-a'))).toBe(false);
    expect(await b.saveCorrelations(2, write('replica-b'))).toBe(true);
    expect((await a.correlationHead())).toMatchObject({ version: 2, term: 2, replica: 'replica-b' });
    expect((await a.storedCorrelations()).items).toEqual([{ id: 'a', body: '{"id":"a"}' }]);

    await leaseB.release(0);
    expect(await leaseA.tryAcquire(0)).toBe(3);
    await leaseA.release(0);
    const terms = await b.leaderTerms();
    expect(terms.map((t) => [t.term, t.replica])).toEqual([[1, 'replica-a'], [2, 'replica-b'], [3, 'replica-a']]);
    expect(terms[0].endedAt).toBeNull();
    expect(terms[1].endedAt).not.toBeNull();
    for (let i = 1; i < terms.length; i++) expect(terms[i].startedAt).toBeGreaterThanOrEqual(terms[i - 1].endedAt ?? terms[i - 1].lastSeen);
  });
});
