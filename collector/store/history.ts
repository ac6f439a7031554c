// A node's history over a window, built the same way for both stores from three reads: the candidate findings
// (historyFindingsQuery), the time each last turned to fail, and the node's status events in the window.
import type { Finding } from '../../proto/report.js';
import type { HistoryRowOut } from './sql.js';
import type { FindingEventKind, HistoryQuery, HistoryRecord, LifecycleStatus, Page } from './types.js';

export interface HistoryEventRow { fid: string; at: number; status: string; event: string }

/**
 * Keeps the findings that failed in the window (failing now, or a first status or event to `fail` in it), were
 * resolved in it, or changed status in it; newest activity first, paged by (activity, finding id).
 * `lastFailAt`: per finding, the time of its last event to `fail` (any time), which is when it last started failing.
 */
export function buildHistory(rows: readonly HistoryRowOut[], lastFailAt: ReadonlyMap<string, number>,
  windowEvents: readonly HistoryEventRow[], q: HistoryQuery): Page<HistoryRecord> {
  const eventsOf = new Map<string, HistoryRecord['events']>();
  // Newest first, as read.
  for (const e of windowEvents) {
    const list = eventsOf.get(e.fid) ?? [];
    list.push({ at: Number(e.at), event: e.event as FindingEventKind, status: e.status as LifecycleStatus });
    eventsOf.set(e.fid, list);
  }
  const records: HistoryRecord[] = [];
  for (const row of rows) {
    const firstSeen = Number(row.first_seen);
    const resolvedAt = row.resolved_at === null ? null : Number(row.resolved_at);
    const events = eventsOf.get(row.fid) ?? [];
    const isNew = firstSeen >= q.since;
    const failingNow = resolvedAt === null && row.status === 'fail';
    const keep = failingNow || (resolvedAt !== null && resolvedAt >= q.since) || events.length > 0 || (isNew && row.first_status === 'fail');
    if (!keep) continue;
    if (isNew) events.push({ at: firstSeen, event: 'new', status: row.first_status as LifecycleStatus });
    const failedAt = lastFailAt.get(row.fid) ?? (row.first_status === 'fail' ? firstSeen : null);
    records.push({
      finding: JSON.parse(row.body) as Finding,
      status: resolvedAt === null ? row.status as LifecycleStatus : 'resolved',
      openedAt: failedAt,
      resolvedAt,
      events,
      activity: Math.max(Number(row.changed_at), resolvedAt ?? 0),
    });
  }
  records.sort((a, b) => b.activity - a.activity || (a.finding.id < b.finding.id ? 1 : a.finding.id > b.finding.id ? -1 : 0));
  const after = q.after;
  const start = after
    ? records.findIndex((r) => r.activity < after[0] || (r.activity === after[0] && r.finding.id < after[1]))
    : 0;
  const page = start < 0 ? [] : records.slice(start, start + q.limit);
  const more = start >= 0 && start + q.limit < records.length;
  const last = page[page.length - 1];
  return { items: page, nextAfter: more && last ? [last.activity, last.finding.id] : null };
}
