// The outbox on a real, small tmpfs (issue 11): bounded whatever the mix of messages, a full disk never throws (the
// message stays in memory, the outbox says why, and heals when space returns), no torn entry is ever renamed into
// place, and a restart over a truncated entry drops only that entry and says so. Needs root (mount -t tmpfs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { NodeReport } from '../../../proto/report.js';
import type { Payload } from '../../../proto/wire.js';
import { Outbox, type OutboxProblem } from '../../../agent/ship/outbox.js';
import { describeWithDaemons, findBinary, tempDir } from '../../harness/integration.js';

const report = (pad = 0): NodeReport => ({
  schemaVersion: 1, node: { name: 'node-a', roles: [], os: 'x'.repeat(pad) }, scannedAt: '2026-01-01T00:00:00Z', findings: [],
  summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 },
});
const delta = (pad = 0): Payload => ({
  kind: 'delta', delta: { scannedAt: '2026-01-01T00:00:00Z', added: [], changed: [], resolved: [`x:${'y'.repeat(pad)}`] },
});
const full = (pad = 0): Payload => ({ kind: 'full', report: report(pad) });

const cleanups: Array<() => void> = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

/** A tmpfs of `bytes` mounted on a new dir; unmounted (and the dir removed) after the test. */
function tmpfs(bytes: number): string {
  const dir = tempDir('outbox-tmpfs');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir.path]);
  cleanups.push(() => { execFileSync('umount', [dir.path]); dir.cleanup(); });
  return dir.path;
}

/** Fills the filesystem of dir to the last byte. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  try { execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' }); } catch { /* ENOSPC: full */ }
  try { execFileSync('dd', ['if=/dev/zero', `of=${filler}-tail`, 'bs=1'], { stdio: 'ignore' }); } catch { /* full to the byte */ }
  return filler;
}

function open(dir: string, maxBytes: number, transports = ['grpc']): { box: Outbox; warnings: string[]; failures: OutboxProblem[] } {
  const warnings: string[] = [];
  const failures: OutboxProblem[] = [];
  const box = Outbox.open({ dir, node: 'node-a', cluster: 'c', transports, maxBytes, onWarning: (m) => warnings.push(m) });
  box.on('write-failed', (_code: string, p: OutboxProblem) => failures.push(p));
  return { box, warnings, failures };
}

/** Bytes of the entry files on disk. */
const entryBytes = (dir: string): number => readdirSync(dir).filter((n) => /^\d+\.json$/.test(n))
  .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);

describeWithDaemons('outbox on a small tmpfs', { mount: findBinary('mount'), dd: findBinary('dd') }, () => {
  it('stays under --outbox-max-bytes whatever the mix: older fulls and deltas give way to the latest full', () => {
    const dir = join(tmpfs(4 * 1024 * 1024), 'outbox');
    const max = 40_000;
    const { box } = open(dir, max);
    let fulls = 0;
    for (let i = 0; i < 300; i++) {
      if (i % 7 === 0) { box.append(full(3_000), () => report(3_000)); fulls++; } else box.append(delta(800), () => report(3_000));
      expect(box.bytes).toBeLessThanOrEqual(max);
      expect(entryBytes(dir)).toBe(box.bytes);
    }
    // What is left starts with the latest full snapshot's era: nothing older than a full that is kept.
    const pending = box.pending('grpc');
    const firstFull = pending.findIndex((e) => e.payload.kind === 'full');
    expect(firstFull).toBeLessThanOrEqual(0);
    expect(box.foldedDeltas).toBeGreaterThan(0);
    expect(fulls).toBeGreaterThan(40);
    // The transport skips what was dropped: its cursor is right before the first message still queued.
    expect(box.cursor('grpc')).toBe(pending[0].seq - 1);
  });

  it('a full disk never throws: messages stay in memory, the outbox says why, and heals when space returns', () => {
    // tmpfs counts whole pages: 20 small entries take 20 pages once written.
    const dir = join(tmpfs(256 * 1024), 'outbox');
    const { box, failures, warnings } = open(dir, 8 * 1024 * 1024);
    const filler = fill(dir);
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) seqs.push(box.append(delta(500), () => report()).seq);
    expect(box.degraded?.code).toBe('ENOSPC');
    expect(failures.length).toBeGreaterThan(0);
    expect(warnings.filter((w) => w.includes('cannot write')).length).toBe(1);
    // Delivery goes on from memory, in order.
    expect(box.pending('grpc').map((e) => e.seq)).toEqual(seqs);
    // No temporary file left behind, and every entry on disk is whole.
    for (const name of readdirSync(dir)) {
      expect(name.endsWith('.tmp')).toBe(false);
      if (/^\d+\.json$/.test(name)) expect(() => JSON.parse(readFileSync(join(dir, name), 'utf8'))).not.toThrow();
    }
    // An acknowledgement on a full disk (the state file cannot be saved) does not throw either.
    box.ack('grpc', seqs[4]);
    expect(box.pending('grpc')[0].seq).toBe(seqs[5]);

    rmSync(filler, { force: true });
    rmSync(`${filler}-tail`, { force: true });
    const recovered: string[] = [];
    box.on('write-recovered', () => recovered.push('ok'));
    const next = box.append(delta(10), () => report());
    expect(recovered).toEqual(['ok']);
    expect(box.degraded).toBeUndefined();
    // The messages held in memory are on disk now: a restart finds every one still pending.
    const again = open(dir, 8 * 1024 * 1024).box;
    expect(again.pending('grpc').map((e) => e.seq)).toEqual([...seqs.slice(5), next.seq]);
    expect(again.cursor('grpc')).toBe(seqs[4]);
  });

  it('opens on a full disk without throwing (the state cannot be saved) and keeps numbering', () => {
    const dir = join(tmpfs(64 * 1024), 'outbox');
    const first = open(dir, 1024 * 1024).box;
    const a = first.append(delta(), () => report());
    fill(dir);
    const { box, failures } = open(dir, 1024 * 1024);
    expect(box.degraded?.code).toBe('ENOSPC');
    expect(failures).toEqual([]); // before any listener: read `degraded` after open
    expect(box.pending('grpc').map((e) => e.seq)).toEqual([a.seq]);
    expect(box.append(delta(), () => report()).seq).toBe(a.seq + 1);
  });

  it('a restart over a truncated entry drops only that entry and says so', () => {
    const dir = join(tmpfs(1024 * 1024), 'outbox');
    const { box } = open(dir, 1024 * 1024);
    const seqs = [0, 1, 2].map(() => box.append(delta(100), () => report()).seq);
    const torn = join(dir, readdirSync(dir).filter((n) => /^\d+\.json$/.test(n)).sort()[1]);
    truncateSync(torn, 40);
    writeFileSync(join(dir, 'leftover.json.tmp'), '{"half":');
    const again = open(dir, 1024 * 1024);
    expect(again.box.pending('grpc').map((e) => e.seq)).toEqual([seqs[0], seqs[2]]);
    expect(again.box.unreadableAtOpen).toBe(1);
    expect(again.warnings.filter((w) => w.includes('unreadable outbox entry'))).toHaveLength(1);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
    expect(again.box.append(delta(), () => report()).seq).toBe(seqs[2] + 1);
  });

  it('without its state file, sends again everything still on disk (the collector dedupes)', () => {
    const dir = join(tmpfs(1024 * 1024), 'outbox');
    mkdirSync(dir);
    const { box } = open(dir, 1024 * 1024);
    const seqs = [0, 1].map(() => box.append(delta(), () => report()).seq);
    rmSync(join(dir, 'state.json'));
    expect(open(dir, 1024 * 1024).box.pending('grpc').map((e) => e.seq)).toEqual(seqs);
  });
}, { needsRoot: true });
