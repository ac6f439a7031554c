import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchingIngestor, DeliveryIngestor, deliveryMetrics, type Sender } from '../../../collector/ingest/ingestor.js';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import type { Envelope } from '../../../proto/wire.js';
import { MAX_CLOCK_SKEW_MS, SEQ_WINDOW } from '../../../collector/store/sequence.js';
import type { CallerIdentity } from '../../../collector/ingest/identity.js';
import { tempDir } from '../../harness/integration.js';
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

// ---- DeliveryIngestor: what every streaming transport hands over ----

/** Delivery counters as `name{labels} value` lines. */
async function counters(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => /^vigil_collector_\w+\{/.test(l));
}

const envelope = (node: string, seq: number, kind: 'full' | 'delta', status: 'pass' | 'fail' = 'pass'): Envelope => {
  const f = finding({ checkId: 'cis-4.2.1', status });
  return kind === 'full'
    ? { node, cluster: 'c', seq, payload: { kind: 'full', report: report(node, [f]) } }
    : { node, cluster: 'c', seq, payload: { kind: 'delta', delta: { scannedAt: '2025-01-01T00:00:01Z', added: [], changed: [f], resolved: [] } } };
};

describe('DeliveryIngestor', () => {
  const dirs: Array<{ cleanup(): void }> = [];
  afterEach(() => { while (dirs.length) dirs.pop()!.cleanup(); });
  async function setup(): Promise<{ delivery: DeliveryIngestor; store: SqliteStore; registry: Registry }> {
    const dir = tempDir('delivery');
    dirs.push(dir);
    const store = new SqliteStore(dir.path);
    // A store that migrates on its own has no migrate().
    await (store as { migrate?: () => Promise<unknown> }).migrate?.();
    const registry = new Registry();
    const delivery = new DeliveryIngestor(new BatchingIngestor(store), { metrics: deliveryMetrics(registry), log: pino({ level: 'silent' }) });
    return { delivery, store, registry };
  }
  const grpc: Sender = { transport: 'grpc', nodes: ['node-a'], canResync: true };

  it('acks what it stores, dedupes, counts heartbeats, and refuses a caller speaking for another node', async () => {
    const { delivery, store, registry } = await setup();
    expect(await delivery.receive(envelope('node-a', 10, 'full'), grpc)).toEqual({ kind: 'ack', seq: 10, duplicate: false });
    expect(await delivery.receive(envelope('node-a', 10, 'full'), grpc)).toEqual({ kind: 'ack', seq: 10, duplicate: true });
    expect(await delivery.receive({ node: 'node-a', cluster: 'c', seq: 10, heartbeat: { agentVersion: '0.1.0', node: 'node-a',
      lastScanDurationMs: 9, outboxDepth: 0, outboxBytes: 0, foldedDeltas: 0 } }, grpc)).toEqual({ kind: 'heartbeat' });
    expect(await delivery.receive(envelope('node-b', 1, 'full'), grpc)).toMatchObject({ kind: 'refuse' });
    expect(await delivery.receive(envelope('node-a', 11, 'full'), { transport: 'nats', nodes: ['node-a'], cluster: 'other' }))
      .toMatchObject({ kind: 'refuse' });
    expect(await store.lastSeq('node-a')).toBe(10);
    expect(await store.lastSeq('node-b')).toBeUndefined();
    expect(await counters(registry)).toEqual(expect.arrayContaining([
      'vigil_collector_stream_messages_total{transport="grpc",kind="full"} 2',
      'vigil_collector_stream_messages_total{transport="grpc",kind="heartbeat"} 1',
      'vigil_collector_refused_reports_total{transport="grpc",reason="node-mismatch"} 1',
      'vigil_collector_refused_reports_total{transport="nats",reason="node-mismatch"} 1',
    ]));
  });

  it('stores a delta after a gap and asks a resync-capable transport for a full snapshot, once until it comes', async () => {
    const { delivery, registry } = await setup();
    expect(await delivery.receive(envelope('node-a', 5, 'delta'), grpc))
      .toEqual({ kind: 'ack', seq: 5, duplicate: false, resync: 'collector holds up to seq none, got 5' });
    expect(await delivery.receive(envelope('node-a', 7, 'delta', 'fail'), grpc)).toEqual({ kind: 'ack', seq: 7, duplicate: false });
    expect(await delivery.receive(envelope('node-a', 8, 'full'), grpc)).toEqual({ kind: 'ack', seq: 8, duplicate: false });
    expect(await delivery.receive(envelope('node-a', 10, 'delta'), grpc))
      .toEqual({ kind: 'ack', seq: 10, duplicate: false, resync: 'collector holds up to seq 8, got 10' });
    // A transport that cannot carry the request back (NATS) is never given one.
    expect(await delivery.receive(envelope('node-n', 3, 'delta'), { transport: 'nats' })).toEqual({ kind: 'ack', seq: 3, duplicate: false });
    expect(await counters(registry)).toContain('vigil_collector_resync_requests_total{transport="grpc"} 2');
  });

  it('has a redeliverable message ahead of the stored seq wait for the missing one, for a bounded time', async () => {
    const { delivery, store } = await setup();
    const nats = (count: number): Sender => ({ transport: 'nats', nodes: ['node-a'], cluster: 'c', redelivery: { count, maxWaitMs: 2_000 } });
    // Nothing stored yet for the node: nothing to wait for.
    expect(await delivery.receive(envelope('node-a', 1, 'full'), nats(1))).toMatchObject({ kind: 'ack', seq: 1 });
    expect(await delivery.receive(envelope('node-a', 3, 'delta'), nats(1))).toEqual({ kind: 'retry', afterMs: 500, reason: 'waiting for seq 2' });
    expect(await delivery.receive(envelope('node-a', 3, 'full'), nats(4))).toMatchObject({ kind: 'retry' });
    expect(await store.lastSeq('node-a')).toBe(1);
    // After 2 s of waiting (4 rounds of 500 ms) it is applied anyway.
    expect(await delivery.receive(envelope('node-a', 3, 'delta'), nats(5))).toEqual({ kind: 'ack', seq: 3, duplicate: false });
    expect(await store.lastSeq('node-a')).toBe(3);
  });

  it('rejects invalid messages (counted) and answers retry when the store fails', async () => {
    const { delivery, store, registry } = await setup();
    const bad = envelope('node-a', 1, 'delta');
    if (bad.payload.kind === 'delta') bad.payload.delta.changed[0] = { ...bad.payload.delta.changed[0], status: 'bogus' as never };
    expect(await delivery.receive(bad, grpc)).toMatchObject({ kind: 'reject', seq: 1 });
    expect(delivery.undecodable({ transport: 'nats', label: 'NATS' }, 'not protobuf')).toMatchObject({ kind: 'reject' });
    expect(await counters(registry)).toEqual(expect.arrayContaining([
      'vigil_collector_invalid_messages_total{transport="grpc"} 1', 'vigil_collector_invalid_messages_total{transport="nats"} 1',
    ]));
    await store.close();
    expect(await delivery.receive(envelope('node-a', 2, 'full'), grpc)).toEqual({ kind: 'retry', afterMs: 1_000, reason: 'store unavailable' });
  });

  // ---- identity and the (epoch, seq) order ----

  const agentOf = (node: string): Sender => ({ transport: 'grpc', canResync: true, identity: {
    kind: 'service-account', subject: 'system:serviceaccount:vigil:vigil-agent', bound: true, nodes: [node],
    detail: { pod: `agent-${node}`, node } } });
  const at = (e: Envelope, epoch: string, scannedAt?: string): Envelope => {
    const out = { ...e, epoch };
    if (scannedAt && out.payload.kind === 'full') out.payload = { kind: 'full', report: { ...out.payload.report, scannedAt } };
    if (scannedAt && out.payload.kind === 'delta') out.payload = { kind: 'delta', delta: { ...out.payload.delta, scannedAt } };
    return out;
  };
  const iso = (ms: number): string => new Date(ms).toISOString();

  it('refuses a seq more than the window past the stored one (not stored, dropped by the agent), and counts it', async () => {
    const { delivery, store, registry } = await setup();
    const t = Date.now() - 60_000;
    expect(await delivery.receive(at(envelope('node-a', 10, 'full'), 'e1', iso(t)), agentOf('node-a'))).toMatchObject({ kind: 'ack', seq: 10 });
    const forged = at(envelope('node-a', Number.MAX_SAFE_INTEGER, 'delta', 'fail'), 'e1', iso(t + 1000));
    expect(await delivery.receive(forged, agentOf('node-a'))).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/more than/) });
    expect(await delivery.receive(at(envelope('node-a', 10 + SEQ_WINDOW + 1, 'delta'), 'e1', iso(t + 1000)), agentOf('node-a')))
      .toMatchObject({ kind: 'reject' });
    expect(await store.lastSeq('node-a')).toBe(10);
    // The genuine next message is stored.
    expect(await delivery.receive(at(envelope('node-a', 11, 'delta', 'fail'), 'e1', iso(t + 2000)), agentOf('node-a')))
      .toEqual({ kind: 'ack', seq: 11, duplicate: false });
    expect(await counters(registry)).toContain('vigil_collector_refused_reports_total{transport="grpc",reason="seq-window"} 2');
  });

  it('starts a new epoch on a newer full snapshot; later messages of the old epoch are ignored (newer ones get a resync request)', async () => {
    const { delivery, store } = await setup();
    const t = Date.now() - 60_000;
    const a = agentOf('node-a');
    await delivery.receive(at(envelope('node-a', 100, 'full'), 'run-1', iso(t)), a);
    await delivery.receive(at(envelope('node-a', 101, 'delta', 'fail'), 'run-1', iso(t + 1000)), a);
    // The agent restarted: a new epoch, its first full snapshot.
    expect(await delivery.receive(at(envelope('node-a', 102, 'full'), 'run-2', iso(t + 2000)), a)).toEqual({ kind: 'ack', seq: 102, duplicate: false });
    expect(await store.position('node-a')).toMatchObject({ epoch: 'run-2', seq: 102 });
    // A late copy of the old run's messages (another transport, a redelivery) changes nothing.
    expect(await delivery.receive(at(envelope('node-a', 100, 'full', 'fail'), 'run-1', iso(t)), a)).toMatchObject({ kind: 'ack', duplicate: true });
    expect(await delivery.receive(at(envelope('node-a', 101, 'delta', 'fail'), 'run-1', iso(t + 1000)), a))
      .toEqual({ kind: 'ack', seq: 101, duplicate: true });
    // A newer message of the old epoch: its sender has not seen the node move on, so it is asked for a snapshot.
    expect(await delivery.receive(at(envelope('node-a', 103, 'delta', 'fail'), 'run-1', iso(t + 5000)), a))
      .toEqual({ kind: 'ack', seq: 103, duplicate: true, resync: 'collector follows another epoch of node-a' });
    expect(await store.position('node-a')).toMatchObject({ epoch: 'run-2', seq: 102 });
    expect((await store.findings({ node: 'node-a', sort: 'severity', limit: 10 })).items[0].finding.status).toBe('pass');
  });

  it("has a redeliverable new run's first snapshot wait for the last run's messages (the seq goes on across runs)", async () => {
    const { delivery, store } = await setup();
    const t = Date.now() - 60_000;
    const nats = (count: number): Sender => ({ ...agentOf('node-a'), transport: 'nats', canResync: false, redelivery: { count, maxWaitMs: 2_000 } });
    await delivery.receive(at(envelope('node-a', 10, 'full'), 'run-1', iso(t)), nats(1));
    // Run 2's snapshot (seq 13) comes before run 1's last deltas (11, 12), which another transport still holds.
    expect(await delivery.receive(at(envelope('node-a', 13, 'full'), 'run-2', iso(t + 3000)), nats(1))).toMatchObject({ kind: 'retry' });
    await delivery.receive(at(envelope('node-a', 11, 'delta', 'fail'), 'run-1', iso(t + 1000)), agentOf('node-a'));
    await delivery.receive(at(envelope('node-a', 12, 'delta', 'pass'), 'run-1', iso(t + 2000)), agentOf('node-a'));
    expect(await delivery.receive(at(envelope('node-a', 13, 'full'), 'run-2', iso(t + 3000)), nats(2))).toEqual({ kind: 'ack', seq: 13, duplicate: false });
    expect(await store.findingEvents('node-a', 10)).toHaveLength(2);
    // A number past the window does not wait at all.
    expect(await delivery.receive(at(envelope('node-a', 13 + SEQ_WINDOW + 5, 'full'), 'run-3', iso(t + 4000)), nats(1))).toMatchObject({ kind: 'ack' });
  });

  it('a forged snapshot with a huge seq does not freeze the node: the genuine agent\'s next newer snapshot restarts the order', async () => {
    const { delivery, store } = await setup();
    const t = Date.now() - 60_000;
    const a = agentOf('node-a');
    await delivery.receive(at(envelope('node-a', 5, 'full'), 'genuine', iso(t)), a);
    // Someone with the node's token: a full snapshot in an epoch of its own, numbered at the end of the range.
    await delivery.receive(at(envelope('node-a', Number.MAX_SAFE_INTEGER, 'full', 'fail'), 'forged', iso(t + 1000)), a);
    expect(await store.lastSeq('node-a')).toBe(Number.MAX_SAFE_INTEGER);
    // The genuine agent's deltas are of an epoch the node has left: ignored, and it is asked for a snapshot.
    expect(await delivery.receive(at(envelope('node-a', 6, 'delta'), 'genuine', iso(t + 2000)), a)).toMatchObject({ duplicate: true, resync: expect.any(String) });
    // Its next snapshot is newer than the forged one: it is stored, and the order is the genuine agent's again.
    expect(await delivery.receive(at(envelope('node-a', 7, 'full'), 'genuine', iso(t + 3000)), a)).toEqual({ kind: 'ack', seq: 7, duplicate: false });
    expect(await delivery.receive(at(envelope('node-a', 8, 'delta', 'fail'), 'genuine', iso(t + 4000)), a)).toEqual({ kind: 'ack', seq: 8, duplicate: false });
    expect(await store.position('node-a')).toMatchObject({ epoch: 'genuine', seq: 8 });
    // In the same epoch too: a newer snapshot below the stored seq restarts the order (a forged in-window seq cannot stall it).
    await delivery.receive(at(envelope('node-a', 8 + SEQ_WINDOW, 'delta'), 'genuine', iso(t + 5000)), a);
    expect(await delivery.receive(at(envelope('node-a', 9, 'full'), 'genuine', iso(t + 6000)), a)).toEqual({ kind: 'ack', seq: 9, duplicate: false });
    // A snapshot claiming to be scanned far in the future counts as scanned a few minutes from now, no later.
    await delivery.receive(at(envelope('node-a', Number.MAX_SAFE_INTEGER, 'full'), 'future', iso(Date.now() + 86_400_000)), a);
    expect((await store.position('node-a'))!.scan).toBeLessThanOrEqual(Date.now() + MAX_CLOCK_SKEW_MS);
  });

  it('keeps a node that reports with its own identity from unbound writers; an import token may write it', async () => {
    const { delivery, store, registry } = await setup();
    const untrusted: Sender = { transport: 'nats', nodes: ['node-a'], cluster: 'c' };
    // Nobody bound node-a yet: the subject is taken on trust.
    expect(await delivery.receive(envelope('node-a', 1, 'full'), untrusted)).toMatchObject({ kind: 'ack', duplicate: false });
    expect(await delivery.receive(at(envelope('node-a', 2, 'full'), 'e'), agentOf('node-a'))).toMatchObject({ kind: 'ack', duplicate: false });
    expect((await store.node('node-a'))).toMatchObject({ identity: { kind: 'service-account' }, boundAt: expect.any(Number) });
    expect(await delivery.receive(envelope('node-a', 3, 'full'), untrusted)).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/own identity/) });
    const importer: CallerIdentity = { kind: 'token', subject: 'importer', bound: false, anyNode: true };
    expect(await delivery.receive(at(envelope('node-a', 4, 'full'), 'e'), { transport: 'grpc', identity: importer })).toMatchObject({ kind: 'ack' });
    expect(await counters(registry)).toContain('vigil_collector_refused_reports_total{transport="nats",reason="bound-node"} 1');
  });
});
