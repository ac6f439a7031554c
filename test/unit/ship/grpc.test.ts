// The gRPC sender against the gRPC ingest server on loopback (plaintext, --insecure), with a small
// in-memory Ingestor that keeps the collector's contract: dedupe by (node, seq), validation errors thrown.
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeReport } from '../../../proto/report.js';
import { Backoff } from '../../../common/backoff.js';
import { GrpcSender } from '../../../agent/ship/grpc-client.js';
import { Outbox } from '../../../agent/ship/outbox.js';
import { GrpcReceiver } from '../../../collector/ingest/transports/grpc.js';
import { deliveryMetrics } from '../../../collector/ingest/transports/index.js';
import { IngestValidationError, type IngestMessage, type IngestResult, type Ingestor } from '../../../collector/ingest/types.js';
import { tempDir } from '../../harness/integration.js';

class MemoryIngestor implements Ingestor {
  readonly stored: IngestMessage[] = [];
  private readonly last = new Map<string, number>();
  async ingest(m: IngestMessage): Promise<IngestResult> {
    if (m.kind === 'delta' && m.upserts.some((f) => !['pass', 'fail', 'warn', 'skip', 'error'].includes(f.status))) {
      throw new IngestValidationError('bad status');
    }
    const last = this.last.get(m.node);
    if (m.seq !== undefined && last !== undefined && m.seq <= last) return { applied: false, duplicate: true, lastSeq: last };
    this.stored.push(m);
    if (m.seq !== undefined) this.last.set(m.node, m.seq);
    return { applied: true, duplicate: false, lastSeq: m.seq };
  }
  async lastSeq(node: string): Promise<number | undefined> { return this.last.get(node); }
  async position(node: string) { const seq = this.last.get(node); return seq === undefined ? undefined : { epoch: null, seq, scan: null }; }
}

/** A started gRPC receiver (the collector's side). */
async function startGrpcIngestServer(opts: ConstructorParameters<typeof GrpcReceiver>[0]): Promise<GrpcReceiver> {
  const server = new GrpcReceiver(opts);
  await server.start();
  return server;
}

const log = pino({ level: 'silent' });
const report = (): NodeReport => ({
  schemaVersion: 1, node: { name: 'node-a', roles: [] }, scannedAt: '2026-01-01T00:00:00.000Z', findings: [],
  summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 },
});
const finding = (status: string) => ({
  id: 'c:1', checkId: 'c', cis: null, status, severity: 'low', title: 't', component: 'node',
  resource: { kind: 'node' }, evidence: { source: 's' }, remediation: 'r',
}) as never;

const cleanups: Array<() => unknown> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

async function setup(maxMessageBytes?: number): Promise<{ ingestor: MemoryIngestor; outbox: Outbox; server: GrpcReceiver; sender: GrpcSender; events: { rejected: number[]; resyncs: string[] } }> {
  const ingestor = new MemoryIngestor();
  const server = await startGrpcIngestServer({ listen: '127.0.0.1:0', insecure: true, ingestor, log, metrics: deliveryMetrics(new Registry()) });
  cleanups.push(() => server.close());
  const dir = tempDir('grpc');
  cleanups.push(() => dir.cleanup());
  const outbox = Outbox.open({ dir: dir.path, node: 'node-a', cluster: 'c', transports: ['grpc'] });
  const events = { rejected: [] as number[], resyncs: [] as string[] };
  const sender = new GrpcSender({
    target: `127.0.0.1:${server.port}`, insecure: true, outbox, node: 'node-a', cluster: 'c', log, maxMessageBytes,
    backoff: new Backoff({ baseMs: 20, maxMs: 100 }),
    onRejected: (_t, seq) => events.rejected.push(seq), onResync: (r) => events.resyncs.push(r),
  });
  cleanups.push(() => sender.stop());
  return { ingestor, outbox, server, sender, events };
}

async function until(probe: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('gRPC delivery', () => {
  it('delivers in order, drains the outbox on acks, and refuses plaintext off loopback', async () => {
    const { ingestor, outbox, sender } = await setup();
    const full = outbox.append({ kind: 'full', report: report() }, report);
    outbox.append({ kind: 'delta', delta: { scannedAt: report().scannedAt, added: [finding('fail')], changed: [], resolved: [] } }, report);
    sender.start();
    await until(() => outbox.depth === 0);
    expect(ingestor.stored.map((m) => [m.kind, m.seq])).toEqual([['full', full.seq], ['delta', full.seq + 1]]);
    expect(() => new GrpcSender({ target: '10.0.0.1:443', insecure: true, outbox, node: 'n', cluster: 'c', log })).toThrow(/loopback/);
    await expect(startGrpcIngestServer({ listen: '0.0.0.0:0', insecure: true, ingestor, log, metrics: deliveryMetrics(new Registry()) }))
      .rejects.toThrow(/loopback/);
  });

  it('drops a message the collector rejects as invalid (counted) and delivers the next', async () => {
    const { ingestor, outbox, sender, events } = await setup();
    outbox.append({ kind: 'full', report: report() }, report);
    const bad = outbox.append({ kind: 'delta', delta: { scannedAt: report().scannedAt, added: [finding('bogus')], changed: [], resolved: [] } }, report);
    const good = outbox.append({ kind: 'delta', delta: { scannedAt: report().scannedAt, added: [finding('pass')], changed: [], resolved: [] } }, report);
    sender.start();
    await until(() => outbox.depth === 0);
    expect(events.rejected).toEqual([bad.seq]);
    expect(ingestor.stored.map((m) => m.seq)).toContain(good.seq);
    // The gap the rejected message left makes the collector ask for a full snapshot.
    expect(events.resyncs).toHaveLength(1);
  });

  it('drops a message over the size limit instead of breaking the stream forever', async () => {
    const { ingestor, outbox, sender, events } = await setup(4_096);
    outbox.append({ kind: 'full', report: report() }, report);
    const huge = outbox.append({ kind: 'delta', delta: { scannedAt: report().scannedAt, added: [], changed: [], resolved: Array.from({ length: 100 }, (_, i) => `x:${i}`.padEnd(100, 'y')) } }, report);
    const after = outbox.append({ kind: 'delta', delta: { scannedAt: report().scannedAt, added: [finding('pass')], changed: [], resolved: [] } }, report);
    sender.start();
    await until(() => outbox.depth === 0);
    expect(events.rejected).toEqual([huge.seq]);
    expect(ingestor.stored.map((m) => m.seq)).toContain(after.seq);
  });

  it('resends what was not acknowledged after the collector comes back, stored once', async () => {
    const { ingestor, outbox, server, sender } = await setup();
    outbox.append({ kind: 'full', report: report() }, report);
    sender.start();
    await until(() => outbox.depth === 0);
    await server.close();
    const d = outbox.append({ kind: 'delta', delta: { scannedAt: report().scannedAt, added: [finding('fail')], changed: [], resolved: [] } }, report);
    await new Promise((r) => setTimeout(r, 200));
    expect(outbox.depth).toBe(1);
    const again = await startGrpcIngestServer({ listen: `127.0.0.1:${server.port}`, insecure: true, ingestor, log, metrics: deliveryMetrics(new Registry()) });
    cleanups.push(() => again.close());
    await until(() => outbox.depth === 0, 10_000);
    expect(ingestor.stored.filter((m) => m.seq === d.seq)).toHaveLength(1);
  });
});
