import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeReport } from '../../../proto/report.js';
import type { Payload } from '../../../proto/wire.js';
import { Outbox } from '../../../agent/ship/outbox.js';
import { tempDir } from '../../harness/integration.js';

const report = (n = 0): NodeReport => ({
  schemaVersion: 1, node: { name: 'node-a', roles: [] }, scannedAt: '2026-01-01T00:00:00Z', findings: [],
  summary: { pass: n, fail: 0, warn: 0, skip: 0, error: 0 },
});
const delta = (pad = 0): Payload => ({
  kind: 'delta', delta: { scannedAt: '2026-01-01T00:00:00Z', added: [], changed: [], resolved: [`x:${'y'.repeat(pad)}`] },
});

const dirs: Array<{ cleanup(): void }> = [];
function open(transports = ['grpc'], maxBytes?: number, dir?: string): { box: Outbox; dir: string; warnings: string[] } {
  let d = dir;
  if (!d) { const t = tempDir('outbox'); dirs.push(t); d = t.path; }
  const warnings: string[] = [];
  const box = Outbox.open({ dir: d, node: 'node-a', cluster: 'c', transports, maxBytes, onWarning: (m) => warnings.push(m) });
  return { box, dir: d, warnings };
}
afterEach(() => { while (dirs.length) dirs.pop()!.cleanup(); });

describe('Outbox', () => {
  it('numbers messages monotonically and keeps numbering across reopen', () => {
    const { box, dir } = open();
    const a = box.append({ kind: 'full', report: report() }, report);
    const b = box.append(delta(), report);
    expect(b.seq).toBe(a.seq + 1);
    box.ack('grpc', b.seq);
    expect(box.depth).toBe(0);
    const again = open(['grpc'], undefined, dir).box;
    const c = again.append(delta(), report);
    expect(c.seq).toBe(b.seq + 1);
  });

  it('reloads unacknowledged messages after a restart, in order', () => {
    const { box, dir } = open();
    const seqs = [0, 1, 2].map(() => box.append(delta(), report).seq);
    box.ack('grpc', seqs[0]);
    const again = open(['grpc'], undefined, dir).box;
    expect(again.pending('grpc').map((e) => e.seq)).toEqual(seqs.slice(1));
    expect(again.cursor('grpc')).toBe(seqs[0]);
  });

  it('keeps a message until every transport has acknowledged it', () => {
    const { box } = open(['grpc', 'nats']);
    const e = box.append(delta(), report);
    box.ack('grpc', e.seq);
    expect(box.depth).toBe(1);
    expect(box.pending('grpc')).toHaveLength(0);
    expect(box.pending('nats').map((x) => x.seq)).toEqual([e.seq]);
    box.ack('nats', e.seq);
    expect(box.depth).toBe(0);
  });

  it('folds pending deltas into a full snapshot when full, and counts them', () => {
    const { box, dir, warnings } = open(['grpc'], 4_000);
    const first = box.append(delta(1_000), report);
    box.append(delta(1_000), report);
    box.append(delta(1_000), report);
    const folded = box.append(delta(1_000), () => report(7));
    expect(folded.payload.kind).toBe('full');
    expect(folded.seq).toBe(first.seq + 3);
    expect(box.foldedDeltas).toBe(4);
    expect(box.pending('grpc').map((e) => e.seq)).toEqual([folded.seq]);
    expect(warnings.some((w) => w.includes('folded'))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'state.json')).toHaveLength(1);
    expect(open(['grpc'], 4_000, dir).box.foldedDeltas).toBe(4);
  });

  it('starts a new outbox above any number an earlier one could have used, and drops torn entries', () => {
    const before = Date.now();
    const { box, dir, warnings } = open();
    expect(box.lastSeq).toBeGreaterThanOrEqual(before - 1);
    const e = box.append(delta(), report);
    writeFileSync(join(dir, `${String(e.seq + 1).padStart(16, '0')}.json`), '{"seq":');
    const again = open(['grpc'], undefined, dir);
    expect(again.box.pending('grpc').map((x) => x.seq)).toEqual([e.seq]);
    expect(again.warnings.join()).toContain('unreadable');
    expect(existsSync(join(dir, `${String(e.seq + 1).padStart(16, '0')}.json`))).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('numbers each run in a new epoch, kept in its state; messages of an earlier run keep theirs', () => {
    const { box, dir } = open();
    const first = box.append(delta(), report);
    expect(first.epoch).toBe(box.epoch);
    expect(box.epoch).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const again = open(['grpc'], undefined, dir).box;
    expect(again.epoch).not.toBe(box.epoch);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).epoch).toBe(again.epoch);
    const second = again.append(delta(), report);
    expect(again.pending('grpc').map((e) => [e.seq, e.epoch])).toEqual([[first.seq, box.epoch], [second.seq, again.epoch]]);
    expect(second.seq).toBe(first.seq + 1);
  });
});
