import { describe, expect, it } from 'vitest';
import { BatchingIngestor } from '../../../collector/ingest/ingestor.js';
import { IngestValidationError, type IngestMessage, type IngestResult } from '../../../collector/ingest/types.js';
import type { Store } from '../../../collector/store/types.js';
import { finding, full, report } from './helpers.js';

/** A store double that records transactions and fails any batch holding a message for node `poison`. */
function recordingStore(): { store: Store; batches: string[][] } {
  const batches: string[][] = [];
  const store = {
    async applyBatch(messages: IngestMessage[]): Promise<IngestResult[]> {
      batches.push(messages.map((m) => m.node));
      if (messages.some((m) => m.node === 'poison')) throw new Error('constraint violated');
      return messages.map(() => ({ applied: true, duplicate: false }));
    },
    async lastSeq() { return 7; },
  } as unknown as Store;
  return { store, batches };
}

const msg = (node: string): IngestMessage => full(report(node, [finding({ checkId: 'cis-4.2.1' })]));

describe('BatchingIngestor', () => {
  it('groups messages that arrive together into one transaction', async () => {
    const { store, batches } = recordingStore();
    const ingestor = new BatchingIngestor(store);
    const results = await Promise.all(['a', 'b', 'c'].map((n) => ingestor.ingest(msg(n))));
    expect(results.every((r) => r.applied)).toBe(true);
    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(await ingestor.lastSeq('a')).toBe(7);
  });

  it('caps a transaction by messages and by findings', async () => {
    const { store, batches } = recordingStore();
    const ingestor = new BatchingIngestor(store, { maxBatchMessages: 2, maxBatchFindings: 1000 });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => ingestor.ingest(msg(n))));
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('rejects invalid messages before they reach the store', async () => {
    const { store, batches } = recordingStore();
    const invalid: unknown[] = [];
    const ingestor = new BatchingIngestor(store, { onInvalid: (input) => invalid.push(input) });
    const bad = { ...msg('a'), report: { ...(msg('a') as { report: object }).report, findings: [{ id: '' }] } } as IngestMessage;
    await expect(ingestor.ingest(bad)).rejects.toBeInstanceOf(IngestValidationError);
    await expect(ingestor.ingest({ ...msg('a'), node: 'b' })).rejects.toThrow(/message names "b"/);
    await expect(ingestor.ingest({ kind: 'delta', node: 'a', seq: -1, scannedAt: 'now', upserts: [], resolved: [] }))
      .rejects.toMatchObject({ issues: expect.arrayContaining([expect.stringMatching(/^seq:/), expect.stringMatching(/^scannedAt:/)]) });
    expect(invalid).toHaveLength(3);
    expect(batches).toEqual([]);
  });

  it('a failing message does not take its neighbours down: the batch is retried one by one', async () => {
    const { store, batches } = recordingStore();
    const errors: number[] = [];
    const ingestor = new BatchingIngestor(store, { onError: (_e, n) => errors.push(n) });
    const outcomes = await Promise.allSettled(['a', 'poison', 'c'].map((n) => ingestor.ingest(msg(n))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(batches).toEqual([['a', 'poison', 'c'], ['a'], ['poison'], ['c']]);
    expect(errors).toEqual([3, 1]);
  });

  it('flush waits for everything queued', async () => {
    const { store, batches } = recordingStore();
    const ingestor = new BatchingIngestor(store);
    void ingestor.ingest(msg('a'));
    await ingestor.flush();
    expect(batches).toEqual([['a']]);
  });
});
