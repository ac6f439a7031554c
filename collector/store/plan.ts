// What one message does to one node's findings, decided in pure code so both stores execute the same plan.
import type { Finding, Status, Summary } from '../../proto/report.js';
import type { IngestMessage } from './messages.js';
import { emptySeverityCounts, emptySummary, findingColumns, type FindingColumns } from './rows.js';
import type { FindingEvent, SeverityCounts } from './types.js';

/** The stored state of one of the node's findings, as the plan needs it. */
export interface ExistingFinding {
  fid: string;
  checkId: string;
  status: Status;
  severity: Finding['severity'];
  /** The stored JSON, compared with the incoming finding's to tell a changed finding from an unchanged one. */
  body: string;
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
  /** New, changed or reopened findings: written in full, changed_at = at; first_seen kept when the row exists. */
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

export const countKey = (checkId: string, status: string, severity: string): string => `${checkId}\u0000${status}\u0000${severity}`;

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next === 0) map.delete(key); else map.set(key, next);
}

export function planIngest(existing: readonly ExistingFinding[], message: IngestMessage): IngestPlan {
  const byId = new Map(existing.map((e) => [e.fid, e]));
  const incoming = new Map<string, Finding>();
  for (const f of message.kind === 'full' ? message.report.findings : message.upserts) incoming.set(f.id, f);

  const plan: IngestPlan = {
    upserts: [], resolve: [], events: [], countDeltas: new Map(), checks: new Map(), summary: emptySummary(),
    failing: emptySeverityCounts(), counts: { opened: 0, changed: 0, resolved: 0 },
  };
  const open = new Map<string, { checkId: string; status: Status; severity: Finding['severity'] }>();
  for (const e of existing) if (e.resolvedAt === null) open.set(e.fid, { checkId: e.checkId, status: e.status, severity: e.severity });

  const resolveOne = (fid: string): void => {
    const cur = open.get(fid);
    if (!cur) return;
    plan.resolve.push(fid);
    plan.events.push({ findingId: fid, checkId: cur.checkId, status: 'resolved', event: 'resolved' });
    bump(plan.countDeltas, countKey(cur.checkId, cur.status, cur.severity), -1);
    open.delete(fid);
  };

  if (message.kind === 'full') {
    for (const fid of [...open.keys()]) if (!incoming.has(fid)) resolveOne(fid);
  } else {
    for (const fid of message.resolved) if (!incoming.has(fid)) resolveOne(fid);
  }

  for (const f of incoming.values()) {
    if (!plan.checks.has(f.checkId)) {
      plan.checks.set(f.checkId, { checkId: f.checkId, cis: f.cis, title: f.title, component: f.component, severity: f.severity });
    }
    const cols = findingColumns(f);
    const prev = byId.get(f.id);
    const wasOpen = open.get(f.id);
    if (!prev) {
      plan.upserts.push(cols);
      plan.counts.opened++;
    } else if (prev.resolvedAt !== null) {
      plan.upserts.push(cols);
      plan.events.push({ findingId: f.id, checkId: f.checkId, status: f.status, event: 'reopened' });
      plan.counts.opened++;
    } else if (prev.body !== cols.body) {
      plan.upserts.push(cols);
      if (prev.status !== f.status) plan.events.push({ findingId: f.id, checkId: f.checkId, status: f.status, event: 'changed' });
      plan.counts.changed++;
    }
    if (wasOpen) bump(plan.countDeltas, countKey(wasOpen.checkId, wasOpen.status, wasOpen.severity), -1);
    bump(plan.countDeltas, countKey(f.checkId, f.status, f.severity), +1);
    open.set(f.id, { checkId: f.checkId, status: f.status, severity: f.severity });
  }

  for (const { status, severity } of open.values()) {
    plan.summary[status]++;
    if (status === 'fail') plan.failing[severity]++;
  }
  plan.counts.resolved = plan.resolve.length;
  return plan;
}
