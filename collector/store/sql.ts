// Parameterised SQL shared by both stores: every value is a bound parameter, never text in the statement.
import type { FactSelector, FindingQuery, FindingSort, NodeQuery } from './types.js';

export type Dialect = 'sqlite' | 'postgres';

export class Params {
  readonly values: unknown[] = [];
  constructor(private readonly dialect: Dialect) {}
  /** Binds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return this.dialect === 'postgres' ? `$${this.values.length}` : '?';
  }
  list(values: readonly unknown[]): string {
    return values.map((v) => this.add(v)).join(', ');
  }
}

/** Sort keys per order: all in one direction so a cursor is one row-value comparison. */
export const SORT_KEYS: Record<FindingSort, { columns: string[]; types: Array<'number' | 'string'>; dir: 'DESC' | 'ASC' }> = {
  severity: { columns: ['f.sev_rank', 'f.changed_at', 'f.node', 'f.fid'], types: ['number', 'number', 'string', 'string'], dir: 'DESC' },
  recent: { columns: ['f.changed_at', 'f.node', 'f.fid'], types: ['number', 'string', 'string'], dir: 'DESC' },
  node: { columns: ['f.node', 'f.fid'], types: ['string', 'string'], dir: 'ASC' },
};

export const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export const FINDING_COLUMNS =
  'f.node, f.fid, f.body, f.sev_rank, f.first_seen, f.changed_at, f.last_seen, f.resolved_at, n.last_scan';

export interface QueryHints {
  /** The check filters match many findings: walk the sort order and filter, rather than collect and sort. */
  broadCheckFilter?: boolean;
}

export function findingsQuery(dialect: Dialect, q: FindingQuery, hints: QueryHints = {}): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  const where: string[] = [];
  const statuses = q.status ?? [];
  const open = statuses.filter((s) => s !== 'resolved');
  const resolved = statuses.includes('resolved');
  if (statuses.length === 0) where.push('f.resolved_at IS NULL');
  else if (!resolved) where.push(`f.resolved_at IS NULL AND f.status IN (${p.list(open)})`);
  else if (open.length === 0) where.push('f.resolved_at IS NOT NULL');
  else where.push(`((f.resolved_at IS NULL AND f.status IN (${p.list(open)})) OR f.resolved_at IS NOT NULL)`);
  if (q.node !== undefined) where.push(`f.node = ${p.add(q.node)}`);
  if (q.severity?.length) where.push(`f.severity IN (${p.list(q.severity)})`);
  if (q.check !== undefined) where.push(`f.check_id = ${p.add(q.check)}`);
  // SQLite: a unary + keeps the planner off the check index when the filter is broad.
  const checkCol = hints.broadCheckFilter && dialect === 'sqlite' ? '+f.check_id' : 'f.check_id';
  if (q.cis !== undefined || q.component !== undefined) where.push(`${checkCol} IN (${checksMatching(p, q)})`);
  if (q.namespace !== undefined) where.push(`f.namespace = ${p.add(q.namespace)}`);
  if (q.pod !== undefined) where.push(`f.pod = ${p.add(q.pod)}`);
  if (q.since !== undefined) where.push(`f.changed_at >= ${p.add(q.since)}`);
  if (q.q !== undefined) where.push(`LOWER(f.body) LIKE ${p.add(`%${likeEscape(q.q.toLowerCase())}%`)} ESCAPE '\\'`);
  const sort = SORT_KEYS[q.sort];
  if (q.after) {
    const op = sort.dir === 'DESC' ? '<' : '>';
    where.push(`(${sort.columns.join(', ')}) ${op} (${p.list(q.after)})`);
  }
  const order = sort.columns.map((c) => `${c} ${sort.dir}`).join(', ');
  const text = `SELECT ${FINDING_COLUMNS} FROM findings f JOIN nodes n ON n.name = f.node
    WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${p.add(q.limit + 1)}`;
  return { text, values: p.values };
}

/** The check ids a cis/component filter selects (both filters combine). */
export function checksMatching(p: Params, q: Pick<FindingQuery, 'cis' | 'component'>): string {
  const conds: string[] = [];
  if (q.cis !== undefined) conds.push(`(cis = ${p.add(q.cis)} OR cis LIKE ${p.add(`${likeEscape(q.cis)}.%`)} ESCAPE '\\')`);
  if (q.component !== undefined) conds.push(`component = ${p.add(q.component)}`);
  return `SELECT check_id FROM checks WHERE ${conds.join(' AND ')}`;
}

/** How many open findings the cis/component filter can match (from the per-check counters). */
export function checkFilterSizeQuery(dialect: Dialect, q: Pick<FindingQuery, 'cis' | 'component'>): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  return { text: `SELECT COALESCE(SUM(n), 0) AS n FROM check_counts WHERE check_id IN (${checksMatching(p, q)})`, values: p.values };
}

/** Above this many matches, walking the sorted index beats collecting and sorting. */
export const BROAD_FILTER_ROWS = 5000;

export function nodesQuery(dialect: Dialect, q: NodeQuery): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  const where: string[] = ['1 = 1'];
  if (q.role !== undefined) {
    // roles is a JSON array of strings; match the quoted element so `work` does not match `worker`.
    where.push(`roles LIKE ${p.add(`%${likeEscape(JSON.stringify(q.role))}%`)} ESCAPE '\\'`);
  }
  if (q.reportedBefore !== undefined) where.push(`last_report < ${p.add(q.reportedBefore)}`);
  if (q.reportedSince !== undefined) where.push(`last_report >= ${p.add(q.reportedSince)}`);
  if (q.after !== undefined) where.push(`name > ${p.add(q.after)}`);
  return { text: `SELECT * FROM nodes WHERE ${where.join(' AND ')} ORDER BY name LIMIT ${p.add(q.limit + 1)}`, values: p.values };
}

export function factsQuery(dialect: Dialect, sel: FactSelector): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  const any: string[] = [];
  if (sel.checkIds?.length) any.push(`f.check_id IN (${p.list(sel.checkIds)})`);
  for (const prefix of sel.checkIdPrefixes ?? []) any.push(`f.check_id LIKE ${p.add(`${likeEscape(prefix)}%`)} ESCAPE '\\'`);
  if (sel.resourceKinds?.length) any.push(`f.resource_kind IN (${p.list(sel.resourceKinds)})`);
  if (sel.evidenceKeys?.length) any.push(`f.evidence_key IN (${p.list(sel.evidenceKeys)})`);
  const match = any.length ? any.join(' OR ') : '1 = 0';
  return {
    text: `SELECT ${FINDING_COLUMNS} FROM findings f JOIN nodes n ON n.name = f.node WHERE f.resolved_at IS NULL AND (${match})`,
    values: p.values,
  };
}

/** A findings row as both drivers return it (PostgreSQL BIGINTs are parsed to numbers by the store). */
export interface FindingRowOut {
  node: string; fid: string; body: string; sev_rank: number; first_seen: number; changed_at: number;
  last_seen: number | null; resolved_at: number | null; last_scan: number;
}

export function sortKeyOf(sort: FindingSort, row: FindingRowOut): unknown[] {
  switch (sort) {
    case 'severity': return [Number(row.sev_rank), Number(row.changed_at), row.node, row.fid];
    case 'recent': return [Number(row.changed_at), row.node, row.fid];
    case 'node': return [row.node, row.fid];
  }
}
