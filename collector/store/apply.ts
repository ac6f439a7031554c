// The per-message write sequence both stores follow: dedupe by (node, seq), plan, then execute the plan.
import type { IngestMessage, IngestResult } from './messages.js';
import type { CheckMeta, IngestPlan } from './plan.js';
import type { Steps } from './slices.js';
import { roleKey, sameSummary } from './rows.js';
import type { NodeRecord } from './types.js';

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
  summary: IngestPlan['summary'];
  isNew: boolean;
  scoreChanged: boolean;
}

export function isDuplicate(message: IngestMessage, node: NodeRecord | undefined): boolean {
  return message.seq !== undefined && node?.lastSeq != null && message.seq <= node.lastSeq;
}

export function duplicateResult(node: NodeRecord | undefined): IngestResult {
  return { applied: false, duplicate: true, lastSeq: node?.lastSeq ?? undefined };
}

function scanTime(message: IngestMessage): number {
  return Date.parse(message.kind === 'full' ? message.report.scannedAt : message.scannedAt);
}

export function nodeWrite(message: IngestMessage, node: NodeRecord | undefined, plan: IngestPlan, receivedAt: number): NodeWrite {
  const full = message.kind === 'full' ? message.report.node : undefined;
  const roles = full ? full.roles : node?.roles ?? [];
  const lastSeq = message.seq === undefined ? node?.lastSeq ?? null : Math.max(message.seq, node?.lastSeq ?? -Infinity);
  return {
    name: message.node,
    roles,
    roleKey: roleKey(roles),
    agentVersion: full ? full.agentVersion ?? null : node?.agentVersion ?? null,
    info: JSON.stringify(full ?? node?.info ?? {}),
    firstSeen: node?.firstSeen ?? receivedAt,
    lastReport: receivedAt,
    lastScan: scanTime(message),
    lastSeq,
    summary: plan.summary,
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

/** Remembers check metadata already written, so steady-state reports do not rewrite the checks table. */
export class CheckMetaCache {
  private readonly known = new Map<string, string>();
  /** Whether the check's metadata must be written (and from now on it counts as written). */
  isNew(c: CheckMeta): boolean {
    const key = `${c.cis ?? ''}\u0000${c.title}\u0000${c.component}\u0000${c.severity}`;
    if (this.known.get(c.checkId) === key) return false;
    this.known.set(c.checkId, key);
    return true;
  }
  /** After a rollback nothing is known to be written. */
  clear(): void { this.known.clear(); }
}
