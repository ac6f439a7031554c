// The per-message write sequence both stores follow: order by (node, epoch, seq) and check the writer may
// write the node, plan, then execute the plan.
import type { IngestMessage, IngestResult } from './messages.js';
import type { CheckMeta, IngestPlan } from './plan.js';
import type { Steps } from './slices.js';
import { roleKey, sameSummary } from './rows.js';
import { SEQ_WINDOW, sequence, type SeqPosition } from './sequence.js';
import { MAX_CHANGED_NODES, type NodeIdentity, type NodeRecord, type StoredChanges } from './types.js';

interface NodeWrite {
  name: string;
  roles: string[];
  roleKey: string;
  agentVersion: string | null;
  info: string;
  firstSeen: number;
  lastReport: number;
  lastScan: number;
  lastSeq: number | null;
  epoch: string | null;
  seqScan: number | null;
  identity: NodeIdentity | null;
  boundAt: number | null;
  summary: IngestPlan['summary'];
  failing: IngestPlan['failing'];
  isNew: boolean;
  scoreChanged: boolean;
}

/** Whether and how a message is applied: its place in the node's order, and whether its writer may write the node. */
type Admission = { kind: 'apply'; position: SeqPosition } | { kind: 'skip'; result: IngestResult };

export function admit(message: IngestMessage, node: NodeRecord | undefined, receivedAt: number): Admission {
  const lastSeq = node?.lastSeq ?? undefined;
  const w = message.writer;
  if (node?.boundAt != null && w && !w.bound && !w.anyNode) {
    return { kind: 'skip', result: { applied: false, duplicate: false, lastSeq, refused: { reason: 'bound-node',
      message: `node ${message.node} reports with its own identity (${node.identity?.kind ?? 'bound'}); ${w.kind} ${w.subject} may not write it` } } };
  }
  const pos = node ? { epoch: node.epoch ?? null, seq: node.lastSeq, scan: node.seqScan ?? null } : undefined;
  const verdict = sequence(pos, message, receivedAt);
  switch (verdict.kind) {
    case 'apply': return { kind: 'apply', position: verdict.position };
    case 'duplicate': return { kind: 'skip', result: { applied: false, duplicate: true, lastSeq } };
    case 'stale': return { kind: 'skip', result: { applied: false, duplicate: true, lastSeq, stale: true } };
    case 'too-far-ahead': return { kind: 'skip', result: { applied: false, duplicate: false, lastSeq, refused: { reason: 'seq-window',
      message: `seq ${message.seq} is more than ${SEQ_WINDOW} past the stored ${verdict.last}` } } };
  }
}

function scanTime(message: IngestMessage): number {
  return Date.parse(message.kind === 'full' ? message.report.scannedAt : message.scannedAt);
}

export function nodeWrite(
  message: IngestMessage, node: NodeRecord | undefined, plan: IngestPlan, receivedAt: number, position: SeqPosition,
): NodeWrite {
  const full = message.kind === 'full' ? message.report.node : undefined;
  const roles = full ? full.roles : node?.roles ?? [];
  const w = message.writer;
  return {
    name: message.node,
    roles,
    roleKey: roleKey(roles),
    agentVersion: full ? full.agentVersion ?? null : node?.agentVersion ?? null,
    info: JSON.stringify(full ?? node?.info ?? {}),
    firstSeen: node?.firstSeen ?? receivedAt,
    lastReport: receivedAt,
    lastScan: scanTime(message),
    lastSeq: position.seq,
    epoch: position.epoch,
    seqScan: position.scan,
    identity: w ? { kind: w.kind, subject: w.subject } : node?.identity ?? null,
    boundAt: node?.boundAt ?? (w?.bound ? receivedAt : null),
    summary: plan.summary,
    failing: plan.failing,
    isNew: node === undefined,
    scoreChanged: node === undefined || !sameSummary(node.summary, plan.summary),
  };
}

/** The finding ids a delta touches: the only stored findings its plan needs. */
export function touchedIds(message: IngestMessage): string[] {
  if (message.kind === 'full') return [];
  return [...new Set([...message.upserts.map((f) => f.id), ...message.resolved])];
}

function splitCountKey(key: string): [string, string, string] {
  const [checkId, status, severity] = key.split('\u0000');
  return [checkId, status, severity];
}

/** Entries handled between two points where the work may give the event loop a turn (see slices.ts). */
const STEP = 512;

/** Open-finding count changes summed over a whole batch: one write per (check, status, severity), not per message. */
export class CountTotals {
  private readonly deltas = new Map<string, number>();
  /** Adds a plan's changes, as steps: a report of 150,000 distinct checks has as many. */
  *add(plan: IngestPlan): Steps<void> {
    let n = 0;
    for (const [key, d] of plan.countDeltas) {
      this.deltas.set(key, (this.deltas.get(key) ?? 0) + d);
      if (++n % STEP === 0) yield;
    }
  }
  /** Non-zero changes as [checkId, status, severity, delta], one at a time. */
  *rows(): Generator<[string, string, string, number]> {
    for (const [key, d] of this.deltas) if (d !== 0) yield [...splitCountKey(key), d];
  }
}

/** What a transaction changed, summed over its messages, for the store's observers. */
export class ChangeTotals {
  private readonly nodes = new Set<string>();
  private truncated = false;
  private opened = 0;
  private changed = 0;
  private resolved = 0;

  add(write: NodeWrite, plan: IngestPlan): void {
    const { opened, changed, resolved } = plan.counts;
    if (opened + changed + resolved === 0 && !write.isNew) return;
    this.opened += opened;
    this.changed += changed;
    this.resolved += resolved;
    if (this.nodes.size < MAX_CHANGED_NODES) this.nodes.add(write.name);
    else if (!this.nodes.has(write.name)) this.truncated = true;
  }

  /** Undefined when nothing changed. */
  result(): StoredChanges | undefined {
    if (this.nodes.size === 0) return undefined;
    return { nodes: [...this.nodes], truncated: this.truncated, opened: this.opened, changed: this.changed, resolved: this.resolved };
  }
}

/** The store's observers: each is called after a commit; one that throws does not stop the others or the ingest. */
export class Observers {
  private readonly listeners = new Set<(changes: StoredChanges) => void>();

  add(listener: (changes: StoredChanges) => void): void {
    this.listeners.add(listener);
  }

  notify(changes: StoredChanges | undefined): void {
    if (!changes) return;
    for (const listener of this.listeners) {
      try { listener(changes); } catch { /* an observer's failure is its own; the transaction is committed */ }
    }
  }
}

/** Remembers check metadata already written, so steady-state reports do not rewrite the checks table. */
export class CheckMetaCache {
  private readonly known = new Map<string, CheckMeta>();
  /** Whether the check's metadata must be written (and from now on it counts as written). */
  isNew(c: CheckMeta): boolean {
    const k = this.known.get(c.checkId);
    if (k && k.cis === c.cis && k.title === c.title && k.component === c.component && k.severity === c.severity) return false;
    this.known.set(c.checkId, c);
    return true;
  }
  /** After a rollback nothing is known to be written. */
  clear(): void { this.known.clear(); }
}
