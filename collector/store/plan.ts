// What one message does to one node's findings, decided in pure code so both stores execute the same plan.
import { SEVERITIES, STATUSES, type Finding, type Status, type Summary } from '../../proto/report.js';
import type { IngestMessage } from './messages.js';
import { bodyHash, emptySeverityCounts, emptySummary, findingColumns, type FindingColumns } from './rows.js';
import type { FindingEvent, SeverityCounts } from './types.js';

/** The stored state of one of the node's findings, as the plan needs it. */
export interface ExistingFinding {
  fid: string;
  checkId: string;
  status: Status;
  severity: Finding['severity'];
  /** bodyHash of the stored JSON, compared with the incoming finding's to tell a changed finding from an unchanged one. */
  hash: string | null;
  /** The stored JSON, read only for rows written before hashes were stored (hash null), and compared instead. */
  body: string | null;
  resolvedAt: number | null;
}

export interface CheckMeta {
  checkId: string;
  cis: string | null;
  title: string;
  component: string;
  severity: Finding['severity'];
}

export interface IngestPlan {
  /** Findings the node never had: rows to insert (no row can exist: the node's writes are serialised). */
  inserts: FindingColumns[];
  /** Changed or reopened findings: written in full, changed_at = at; first_seen kept. */
  upserts: FindingColumns[];
  /** Open findings that are gone: resolved_at = at, last_seen = the node's previous scan. */
  resolve: string[];
  /** Status history beyond each finding's first status (which the row itself keeps). */
  events: Omit<FindingEvent, 'node' | 'at'>[];
  /** Change of open-finding counts per `checkId\u0000status\u0000severity`. */
  countDeltas: Map<string, number>;
  /** Metadata of every check seen in the message. */
  checks: Map<string, CheckMeta>;
  /** The node's open findings by status after the message. */
  summary: Summary;
  /** The node's open failing findings by severity after the message. */
  failing: SeverityCounts;
  /** Findings new or reopened, open ones changed (status or content), and resolved. */
  counts: { opened: number; changed: number; resolved: number };
}

const countKey = (checkId: string, status: string, severity: string): string => `${checkId}\u0000${status}\u0000${severity}`;

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next === 0) map.delete(key); else map.set(key, next);
}

/** Findings handled between two points where the planner may be interrupted. */
const STEP = 512;

/** The node's stored counts of open findings: by status, and its failures by severity. */
interface OpenBefore {
  summary: Summary;
  failing: SeverityCounts;
}

/**
 * Plans one message as steps (see slices.ts). `existing` is every stored finding of the node for a full report; for
 * a delta it needs only the findings the delta names, and `before` (the node's stored counts) carries the rest, so a
 * delta costs time in proportion to itself, not to the node.
 */
export function* planSteps(existing: readonly ExistingFinding[], message: IngestMessage, before?: OpenBefore): Generator<void, IngestPlan> {
  const byId = new Map<string, ExistingFinding>();
  const open = new Map<string, { checkId: string; status: Status; severity: Finding['severity'] }>();
  for (const e of existing) {
    byId.set(e.fid, e);
    if (e.resolvedAt === null) open.set(e.fid, { checkId: e.checkId, status: e.status, severity: e.severity });
    if (byId.size % STEP === 0) yield;
  }
  const incoming = new Map<string, Finding>();
  for (const f of message.kind === 'full' ? message.report.findings : message.upserts) {
    incoming.set(f.id, f);
    if (incoming.size % STEP === 0) yield;
  }

  const plan: IngestPlan = {
    inserts: [], upserts: [], resolve: [], events: [], countDeltas: new Map(), checks: new Map(), summary: emptySummary(),
    failing: emptySeverityCounts(), counts: { opened: 0, changed: 0, resolved: 0 },
  };
  const statusDeltas = emptySummary();
  const failingDeltas = emptySeverityCounts();
  const change = (checkId: string, status: Status, severity: Finding['severity'], by: number): void => {
    bump(plan.countDeltas, countKey(checkId, status, severity), by);
    statusDeltas[status] += by;
    if (status === 'fail') failingDeltas[severity] += by;
  };

  const resolveOne = (fid: string): void => {
    const cur = open.get(fid);
    if (!cur) return;
    plan.resolve.push(fid);
    plan.events.push({ findingId: fid, checkId: cur.checkId, status: 'resolved', event: 'resolved' });
    change(cur.checkId, cur.status, cur.severity, -1);
    open.delete(fid);
  };

  if (message.kind === 'full') {
    let n = 0;
    for (const fid of [...open.keys()]) {
      if (!incoming.has(fid)) resolveOne(fid);
      if (++n % STEP === 0) yield;
    }
  } else {
    for (const fid of message.resolved) if (!incoming.has(fid)) resolveOne(fid);
  }

  let n = 0;
  for (const f of incoming.values()) {
    if (++n % STEP === 0) yield;
    if (!plan.checks.has(f.checkId)) {
      plan.checks.set(f.checkId, { checkId: f.checkId, cis: f.cis, title: f.title, component: f.component, severity: f.severity });
    }
    // Rows are built only for findings that are written: most of a steady report is unchanged.
    const body = JSON.stringify(f);
    const digest = bodyHash(body);
    const prev = byId.get(f.id);
    const wasOpen = open.get(f.id);
    if (!prev) {
      plan.inserts.push(findingColumns(f, body, digest));
      plan.counts.opened++;
    } else if (prev.resolvedAt !== null) {
      plan.upserts.push(findingColumns(f, body, digest));
      plan.events.push({ findingId: f.id, checkId: f.checkId, status: f.status, event: 'reopened' });
      plan.counts.opened++;
    } else if (prev.hash === null ? prev.body !== body : prev.hash !== digest) {
      plan.upserts.push(findingColumns(f, body, digest));
      if (prev.status !== f.status) plan.events.push({ findingId: f.id, checkId: f.checkId, status: f.status, event: 'changed' });
      plan.counts.changed++;
    }
    // Open before and after under the same (check, status, severity): the counts do not move.
    if (wasOpen && wasOpen.checkId === f.checkId && wasOpen.status === f.status && wasOpen.severity === f.severity) continue;
    if (wasOpen) change(wasOpen.checkId, wasOpen.status, wasOpen.severity, -1);
    change(f.checkId, f.status, f.severity, +1);
    open.set(f.id, { checkId: f.checkId, status: f.status, severity: f.severity });
  }

  if (message.kind === 'delta' && before) {
    for (const status of STATUSES) plan.summary[status] = Math.max(0, before.summary[status] + statusDeltas[status]);
    for (const severity of SEVERITIES) plan.failing[severity] = Math.max(0, before.failing[severity] + failingDeltas[severity]);
  } else {
    for (const { status, severity } of open.values()) {
      plan.summary[status]++;
      if (status === 'fail') plan.failing[severity]++;
    }
  }
  plan.counts.resolved = plan.resolve.length;
  return plan;
}
