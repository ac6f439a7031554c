// The per-finding hash (migration 6), against both stores: a report's unchanged findings are recognised by the hash
// stored with their row, so their rows are not written again; a changed one (evidence alone included) is.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Store } from '../../../collector/store/types.js';
import { finding, full, iso, report, T0 } from './helpers.js';

interface HashSuiteHandle {
  store: Store;
  /** A statement straight on the database (`?` placeholders), beside the store. */
  sql(text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  cleanup(): Promise<void>;
}

const kubelet = (value: string) => finding({ checkId: 'cis-4.2.6', cis: '4.2.6', status: 'fail', severity: 'high', value });
const other = finding({ checkId: 'cis-4.2.1', cis: '4.2.1', status: 'pass', severity: 'high', value: false });

export function defineFindingHashSuite(open: () => Promise<HashSuiteHandle>): void {
  let h: HashSuiteHandle;
  beforeEach(async () => { h = await open(); });
  afterEach(async () => { await h.cleanup(); });

  const row = async (fid: string) => (await h.sql('SELECT body, hash, changed_at FROM findings WHERE node = ? AND fid = ?', ['w1', fid]))[0];
  const stored = async (fid: string) => (await h.store.findings({ sort: 'node', limit: 10, node: 'w1' })).items.find((i) => i.finding.id === fid);
  const ingest = (seq: number, at: number, findings = [kubelet('false'), other]) =>
    h.store.applyBatch([full(report('w1', findings, { scannedAt: iso(at) }), seq)], at);

  it('stores each finding with a hash of its body', async () => {
    await ingest(1, T0);
    const a = await row(kubelet('false').id);
    const b = await row(other.id);
    expect(a.hash).toMatch(/^[A-Za-z0-9+/]{27}$/);
    expect(b.hash).toMatch(/^[A-Za-z0-9+/]{27}$/);
    expect(a.hash).not.toBe(b.hash);
  });

  it('does not rewrite the row of an unchanged finding: it compares the stored hash, not the body', async () => {
    await ingest(1, T0);
    // The stored body is changed behind the store's back, its hash left as it was: only a rewrite would restore it.
    const marked = JSON.stringify({ ...kubelet('false'), title: 'not rewritten' });
    await h.sql('UPDATE findings SET body = ? WHERE node = ? AND fid = ?', [marked, 'w1', kubelet('false').id]);
    await ingest(2, T0 + 60_000);
    expect((await row(kubelet('false').id)).body).toBe(marked);
    expect(await stored(kubelet('false').id)).toMatchObject({ changedAt: T0, finding: { title: 'not rewritten' } });
  });

  it('rewrites a changed finding, also when only its evidence changed, with the new hash', async () => {
    await ingest(1, T0);
    const before = await row(kubelet('false').id);
    await ingest(2, T0 + 60_000, [kubelet('true'), other]);
    const after = await row(kubelet('false').id);
    expect(after.hash).not.toBe(before.hash);
    expect(Number(after.changed_at)).toBe(T0 + 60_000);
    expect(await stored(kubelet('false').id)).toMatchObject({ changedAt: T0 + 60_000, finding: { status: 'fail', evidence: { value: 'true' } } });
    // The unchanged neighbour keeps its row.
    expect(await stored(other.id)).toMatchObject({ changedAt: T0 });
  });

  it('compares rows stored before hashes were (hash NULL) by their body, and hashes them when they are rewritten', async () => {
    await ingest(1, T0);
    await h.sql('UPDATE findings SET hash = NULL WHERE node = ?', ['w1']);
    await ingest(2, T0 + 60_000);
    expect(await stored(kubelet('false').id)).toMatchObject({ changedAt: T0 });
    expect((await row(kubelet('false').id)).hash).toBeNull();
    await ingest(3, T0 + 120_000, [kubelet('true'), other]);
    expect(await stored(kubelet('false').id)).toMatchObject({ changedAt: T0 + 120_000, finding: { evidence: { value: 'true' } } });
    expect((await row(kubelet('false').id)).hash).toMatch(/^[A-Za-z0-9+/]{27}$/);
    expect(await stored(other.id)).toMatchObject({ changedAt: T0 });
  });

  it('stores new findings exactly, whatever characters their fields hold (tabs, line breaks, backslashes, quotes)', async () => {
    const odd = finding({
      checkId: 'odd\\check', cis: null, status: 'fail', severity: 'low', title: 'tab\there, line\nbreak, \\N, "quoted", \r\n',
      component: 'container', pss: 'p\\\t', resource: { kind: 'container', id: 'c\t1', namespace: 'ns\\n', pod: 'pod\nx', container: 'main' },
      evidence: { source: 'flag', key: '--k\t\\', value: { 'a\tb': 'c\\d\n', n: null, u: '\u00e9\u2603' } },
    });
    await ingest(1, T0, [odd, other]);
    expect((await stored(odd.id))?.finding).toEqual(odd);
    expect((await h.store.findings({ sort: 'node', limit: 10, namespace: 'ns\\n', pod: 'pod\nx' })).items.map((i) => i.finding.id)).toEqual([odd.id]);
    await ingest(2, T0 + 60_000, [odd, other]);
    expect(await stored(odd.id)).toMatchObject({ changedAt: T0 });
  });
}
