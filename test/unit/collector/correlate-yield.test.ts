// A full correlation pass over many nodes gives the event loop turns while it evaluates (REST and /healthz answer
// meanwhile): the SQLite store's reads resolve as microtasks only, so every turn counted here is one the pass gave.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncrementalCorrelator } from '../../../collector/correlate/incremental.js';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import { tempDir } from '../../harness/integration.js';
import { finding, full, report, T0 } from './helpers.js';

describe('a full correlation pass', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = tempDir('correlate-yield');
    store = new SqliteStore(dir.path, { synchronous: 'NORMAL' });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  it('yields to the event loop while it evaluates 450 nodes, and still gives the whole result', async () => {
    const anon = (v: boolean) => finding({ checkId: 'cis-4.2.1', cis: '4.2.1', severity: 'high', value: v, status: v ? 'fail' : 'pass' });
    await store.applyBatch(Array.from({ length: 450 }, (_, i) => full(report(`w${i}`, [anon(i === 7)]))), T0);
    let turns = 0;
    let counting = true;
    const count = (): void => { if (counting) { turns++; setImmediate(count); } };
    setImmediate(count);
    const result = await new IncrementalCorrelator(store, { silentAfterMs: 3_600_000 }).refresh(T0 + 1000);
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(result.items.filter((c) => c.kind === 'drift').map((c) => c.nodes)).toEqual([['w7']]);
  });
});
