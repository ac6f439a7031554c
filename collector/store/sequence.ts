// How a node's messages are ordered: by (epoch, seq). An agent run numbers its messages in its own epoch; a
// full snapshot in another epoch starts that epoch. Decided in pure code, inside the store's transaction, so
// replicas sharing a database agree. What a forged message can do is bounded: a seq far ahead is refused, and a
// genuine full snapshot newer than anything stored always restarts the order, so no number freezes a node.
import type { IngestMessage } from './messages.js';

/** How far past the stored seq (same epoch) a message may be; further is refused, never stored. */
export const SEQ_WINDOW = 1_000_000;
/** An agent's scan time counts as at most this far ahead of the collector's clock when messages are ordered. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Where a node's order stands. */
export interface SeqPosition {
  /** null: not known (a node stored before epochs, or written only by one-shot posts). */
  epoch: string | null;
  seq: number | null;
  /** Newest scan time (agent clock, capped) of a sequenced message; a restart must be newer. */
  scan: number | null;
}

type SeqVerdict =
  | { kind: 'apply'; position: SeqPosition; restarted?: 'epoch' | 'order' }
  | { kind: 'duplicate' }
  | { kind: 'stale' }
  | { kind: 'too-far-ahead'; last: number };

function scanTime(m: IngestMessage, receivedAt: number): number {
  const at = Date.parse(m.kind === 'full' ? m.report.scannedAt : m.scannedAt);
  return Math.min(Number.isFinite(at) ? at : receivedAt, receivedAt + MAX_CLOCK_SKEW_MS);
}

/**
 * What to do with a message for a node at `pos`. A restart (of the epoch, or of the order within it) needs a
 * full snapshot from a writer the transport authenticated, scanned after anything stored (or numbered past it,
 * in a new epoch): an old copy of a message never qualifies, a new snapshot of the genuine agent always does.
 */
export function sequence(pos: SeqPosition | undefined, m: IngestMessage, receivedAt: number): SeqVerdict {
  if (m.seq === undefined) return { kind: 'apply', position: pos ?? { epoch: null, seq: null, scan: null } };
  const epoch = m.epoch ?? '';
  const scan = scanTime(m, receivedAt);
  const next: SeqPosition = { epoch, seq: m.seq, scan: Math.max(scan, pos?.scan ?? -Infinity) };
  if (!pos || pos.seq === null) return { kind: 'apply', position: next };
  const newer = pos.scan === null || scan > pos.scan;
  const mayRestart = m.kind === 'full' && m.writer !== undefined;
  if (pos.epoch === null || pos.epoch === epoch) {
    if (m.seq > pos.seq + SEQ_WINDOW) return { kind: 'too-far-ahead', last: pos.seq };
    if (m.seq > pos.seq) return { kind: 'apply', position: next };
    return mayRestart && newer ? { kind: 'apply', position: next, restarted: 'order' } : { kind: 'duplicate' };
  }
  if (mayRestart && (newer || m.seq > pos.seq)) return { kind: 'apply', position: next, restarted: 'epoch' };
  // Of an epoch the node has left: an old copy is a duplicate; a newer message means its sender has not seen the
  // node move on (stale: over gRPC the agent is asked for a full snapshot).
  return newer ? { kind: 'stale' } : { kind: 'duplicate' };
}
