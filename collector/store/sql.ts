// Parameterised SQL shared by both stores: every value is a bound parameter, never text in the statement.
import { STATUSES } from '../../proto/report.js';
import type { ChangesQuery, FactSelector, FindingQuery, FindingSort, NodeQuery } from './types.js';

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
  problems: {
    columns: ['f.status_rank', 'f.sev_rank', 'f.changed_at', 'f.node', 'f.fid'],
    types: ['number', 'number', 'number', 'string', 'string'],
    dir: 'DESC',
  },
  severity: { columns: ['f.sev_rank', 'f.changed_at', 'f.node', 'f.fid'], types: ['number', 'number', 'string', 'string'], dir: 'DESC' },
  recent: { columns: ['f.changed_at', 'f.node', 'f.fid'], types: ['number', 'string', 'string'], dir: 'DESC' },
  node: { columns: ['f.node', 'f.fid'], types: ['string', 'string'], dir: 'ASC' },
};

const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const FINDING_COLUMNS =
  'f.node, f.fid, f.body, f.sev_rank, f.status_rank, f.first_seen, f.changed_at, f.last_seen, f.resolved_at, n.last_scan';

/** Sorts a check-filtered query serves by merging (check, status) slices of the check index. */
export const ORDERED_BY_CHECK_ARMS: ReadonlySet<FindingSort> = new Set(['severity', 'problems']);

/** Problems first: fail, then error (a fact that could not be read may hide a failure), warn, pass, skip. */
export const STATUS_RANK: Readonly<Record<string, number>> = { fail: 4, error: 3, warn: 2, pass: 1, skip: 0 };

/** At most this many (check, status) arms in one statement; beyond, an IN list and a sort. */
const MAX_ARMS = 500;

interface Arm {
  checkId: string;
  status: string;
  /** In problems order the status rank is the same for the whole arm: the index gives the rest of the order. */
  rank?: number;
}

interface QueryHints {
  /** SQLite: many findings match the check filter, so walk the sort order and filter (unary + keeps the check index out). */
  walkSortOrder?: boolean;
}

function findingConditions(p: Params, q: FindingQuery, checkIds: readonly string[] | undefined, arm?: Arm, hints: QueryHints = {}): string[] {
  const where: string[] = [];
  const statuses = q.status ?? [];
  const open = statuses.filter((s) => s !== 'resolved');
  const resolved = statuses.includes('resolved');
  if (arm) where.push(`f.resolved_at IS NULL AND f.check_id = ${p.add(arm.checkId)} AND f.status = ${p.add(arm.status)}`);
  else if (statuses.length === 0) where.push('f.resolved_at IS NULL');
  else if (!resolved && q.sort === 'problems') {
    // The rank leads the problems index: a status filter seeks to its ranks instead of filtering the whole walk.
    where.push(`f.resolved_at IS NULL AND f.status_rank IN (${p.list(open.map((s) => STATUS_RANK[s]))}) AND f.status IN (${p.list(open)})`);
  } else if (!resolved) where.push(`f.resolved_at IS NULL AND f.status IN (${p.list(open)})`);
  else if (open.length === 0) where.push('f.resolved_at IS NOT NULL');
  else where.push(`((f.resolved_at IS NULL AND f.status IN (${p.list(open)})) OR f.resolved_at IS NOT NULL)`);
  if (q.node !== undefined) where.push(`f.node = ${p.add(q.node)}`);
  if (q.severity?.length) where.push(`f.severity IN (${p.list(q.severity)})`);
  if (!arm && q.check !== undefined) where.push(`f.check_id = ${p.add(q.check)}`);
  if (!arm && checkIds) where.push(`${hints.walkSortOrder ? '+' : ''}f.check_id IN (${p.list(checkIds)})`);
  if (q.namespace !== undefined) where.push(`f.namespace = ${p.add(q.namespace)}`);
  if (q.pod !== undefined) where.push(`f.pod = ${p.add(q.pod)}`);
  if (q.since !== undefined) where.push(`f.changed_at >= ${p.add(q.since)}`);
  if (q.q !== undefined) where.push(`LOWER(f.body) LIKE ${p.add(`%${likeEscape(q.q.toLowerCase())}%`)} ESCAPE '\\'`);
  const sort = SORT_KEYS[q.sort];
  if (q.after && arm?.rank !== undefined) {
    // Within an arm of rank r, the cursor (R, rest…) keeps every row when r < R and compares the rest when r = R
    // (armsFor leaves out the arms with r > R).
    if (arm.rank === q.after[0]) where.push(`(${sort.columns.slice(1).join(', ')}) < (${p.list(q.after.slice(1))})`);
  } else if (q.after) {
    where.push(`(${sort.columns.join(', ')}) ${sort.dir === 'DESC' ? '<' : '>'} (${p.list(q.after)})`);
  }
  return where;
}

/** (check, status) slices for a check-filtered query in severity order, or undefined when that does not apply. */
function armsFor(q: FindingQuery, checkIds: readonly string[] | undefined): Arm[] | undefined {
  if (!ORDERED_BY_CHECK_ARMS.has(q.sort) || q.status?.includes('resolved')) return undefined;
  let checks = checkIds ? [...checkIds] : undefined;
  if (q.check !== undefined) checks = checks ? checks.filter((c) => c === q.check) : [q.check];
  if (!checks) return undefined;
  let statuses: readonly string[] = q.status?.length ? q.status : STATUSES;
  if (q.sort === 'problems' && q.after) statuses = statuses.filter((s) => STATUS_RANK[s] <= Number(q.after![0]));
  const arms: Arm[] = checks.flatMap((checkId) => statuses.map((status) => ({
    checkId, status, ...(q.sort === 'problems' ? { rank: STATUS_RANK[status] } : {}),
  })));
  return arms.length <= MAX_ARMS ? arms : undefined;
}

/**
 * The findings page query. `checkIds` are the checks a cis/component filter resolved to (checksMatchingQuery).
 * A check-filtered query in severity order reads each (check, status) slice in order from the check index and
 * merges them, so a broad filter neither sorts nor scans the table.
 */
export function findingsQuery(dialect: Dialect, q: FindingQuery, checkIds?: readonly string[], hints: QueryHints = {}): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  const sort = SORT_KEYS[q.sort];
  const order = (prefix: string): string => sort.columns.map((c) => `${c.replace('f.', prefix)} ${sort.dir}`).join(', ');
  const base = `SELECT ${FINDING_COLUMNS} FROM findings f JOIN nodes n ON n.name = f.node`;
  const arms = armsFor(q, checkIds);
  if (arms && arms.length === 0) return { text: `${base} WHERE 1 = 0`, values: [] };
  if (arms && (arms.length > 1 || q.sort === 'problems')) {
    // Arms carry only sort keys (read from the index); bodies are fetched for the page alone. In problems order an
    // arm's rank is a constant and the check index orders the rest.
    const parts = arms.map((arm) => {
      const columns = arm.rank === undefined ? sort.columns.join(', ') : [`${arm.rank} AS status_rank`, ...sort.columns.slice(1)].join(', ');
      const armOrder = arm.rank === undefined ? order('f.') : order('f.').split(', ').slice(1).join(', ');
      return `SELECT * FROM (SELECT ${columns} FROM findings f
      WHERE ${findingConditions(p, q, undefined, arm).join(' AND ')} ORDER BY ${armOrder} LIMIT ${p.add(q.limit + 1)}) a`;
    });
    const page = `SELECT * FROM (${parts.join(' UNION ALL ')}) x ORDER BY ${order('x.')} LIMIT ${p.add(q.limit + 1)}`;
    return {
      text: `SELECT ${FINDING_COLUMNS} FROM (${page}) u JOIN findings f ON f.node = u.node AND f.fid = u.fid
        JOIN nodes n ON n.name = f.node ORDER BY ${order('u.')}`,
      values: p.values,
    };
  }
  const where = arms?.length === 1 ? findingConditions(p, q, undefined, arms[0]) : findingConditions(p, q, checkIds, undefined, hints);
  const text = `${base} WHERE ${where.join(' AND ')} ORDER BY ${order('f.')} LIMIT ${p.add(q.limit + 1)}`;
  return { text, values: p.values };
}

/** How many open findings these checks have (from the per-check counters). */
export function openCountQuery(dialect: Dialect, checkIds: readonly string[]): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  return { text: `SELECT COALESCE(SUM(n), 0) AS n FROM check_counts WHERE check_id IN (${p.list(checkIds)})`, values: p.values };
}

/** Above this many matches, walking the sort order finds a page faster than collecting and sorting the matches. */
export const WALK_ABOVE = 5000;

/** The check ids a cis/component filter selects (both filters combine). */
export function checksMatchingQuery(dialect: Dialect, q: Pick<FindingQuery, 'cis' | 'component'>): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  const conds: string[] = [];
  if (q.cis !== undefined) conds.push(`(cis = ${p.add(q.cis)} OR cis LIKE ${p.add(`${likeEscape(q.cis)}.%`)} ESCAPE '\\')`);
  if (q.component !== undefined) conds.push(`component = ${p.add(q.component)}`);
  return { text: `SELECT check_id FROM checks WHERE ${conds.join(' AND ')} ORDER BY check_id`, values: p.values };
}

const NODE_LIST_COLUMNS = 'name, roles, agent_version, first_seen, last_report, last_scan, last_seq, pass, fail, warn, skip, error, '
  + 'fail_critical, fail_high, fail_medium, fail_low, fail_info';

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
  // Listing leaves out `info` (the node's full inventory): only the node detail shows it.
  return { text: `SELECT ${NODE_LIST_COLUMNS} FROM nodes WHERE ${where.join(' AND ')} ORDER BY name LIMIT ${p.add(q.limit + 1)}`, values: p.values };
}

export function factsQuery(dialect: Dialect, sel: FactSelector): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  const clauses = sel.map((c) => {
    const all: string[] = [];
    if (c.checkIds?.length) all.push(`f.check_id IN (${p.list(c.checkIds)})`);
    if (c.checkIdPrefixes?.length) {
      all.push(`(${c.checkIdPrefixes.map((prefix) => `f.check_id LIKE ${p.add(`${likeEscape(prefix)}%`)} ESCAPE '\\'`).join(' OR ')})`);
    }
    if (c.resourceKinds?.length) all.push(`f.resource_kind IN (${p.list(c.resourceKinds)})`);
    if (c.evidenceKeys?.length) all.push(`f.evidence_key IN (${p.list(c.evidenceKeys)})`);
    if (c.pss?.length) all.push(`f.pss IN (${p.list(c.pss)})`);
    if (c.excludeStatus?.length) all.push(`f.status NOT IN (${p.list(c.excludeStatus)})`);
    return all.length ? `(${all.join(' AND ')})` : '1 = 0';
  });
  const match = clauses.length ? clauses.join(' OR ') : '1 = 0';
  return {
    text: `SELECT ${FINDING_COLUMNS} FROM findings f JOIN nodes n ON n.name = f.node WHERE f.resolved_at IS NULL AND (${match})`,
    values: p.values,
  };
}

/** A findings row as both drivers return it (PostgreSQL BIGINTs are parsed to numbers by the store). */
export interface FindingRowOut {
  node: string; fid: string; body: string; sev_rank: number; status_rank: number; first_seen: number; changed_at: number;
  last_seen: number | null; resolved_at: number | null; last_scan: number;
}

export function sortKeyOf(sort: FindingSort, row: FindingRowOut): unknown[] {
  switch (sort) {
    case 'problems': return [Number(row.status_rank), Number(row.sev_rank), Number(row.changed_at), row.node, row.fid];
    case 'severity': return [Number(row.sev_rank), Number(row.changed_at), row.node, row.fid];
    case 'recent': return [Number(row.changed_at), row.node, row.fid];
    case 'node': return [row.node, row.fid];
  }
}

/** A change-feed row as both drivers return it. */
export interface ChangeRowOut {
  at: number; node: string; fid: string; id: number; check_id: string; event: string; status: string; body: string;
}

/**
 * The change feed: status events and first statuses (kept on the findings row as `new`), newest first by
 * (at, node, fid, id); a first status has id 0. Each arm reads its own index in that order and stops after a page,
 * so a bulk first ingest (every finding new) costs a page, not a sort.
 */
export function changesQuery(dialect: Dialect, q: ChangesQuery): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  const arm = (t: { at: string; id: string; from: string; alias: string; extra: string }): string => {
    const where = [`${t.at} >= ${p.add(q.since)}`];
    if (q.node !== undefined) where.push(`${t.alias}.node = ${p.add(q.node)}`);
    if (q.after) where.push(`(${t.at}, ${t.alias}.node, ${t.alias}.fid, ${t.id}) < (${p.list(q.after)})`);
    const order = `${t.at} DESC, ${t.alias}.node DESC, ${t.alias}.fid DESC${t.id === '0' ? '' : `, ${t.id} DESC`}`;
    return `SELECT * FROM (SELECT ${t.at} AS at, ${t.alias}.node AS node, ${t.alias}.fid AS fid, ${t.id} AS id, ${t.extra}
      FROM ${t.from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${p.add(q.limit + 1)}) ${t.alias}_arm`;
  };
  const events = arm({ at: 'e.at', id: 'e.id', from: 'finding_events e', alias: 'e', extra: 'e.check_id AS check_id, e.event AS event, e.status AS status' });
  const firsts = arm({ at: 'f.first_seen', id: '0', from: 'findings f', alias: 'f',
    extra: "f.check_id AS check_id, 'new' AS event, f.first_status AS status" });
  return {
    text: `SELECT c.at, c.node, c.fid, c.id, c.check_id, c.event, c.status, x.body
      FROM (${events} UNION ALL ${firsts}) c JOIN findings x ON x.node = c.node AND x.fid = c.fid
      ORDER BY c.at DESC, c.node DESC, c.fid DESC, c.id DESC LIMIT ${p.add(q.limit + 1)}`,
    values: p.values,
  };
}

/** A node-history candidate row: the node's findings that may have failed, resolved or changed in the window. */
export interface HistoryRowOut {
  fid: string; status: string; body: string; first_status: string; first_seen: number; changed_at: number; resolved_at: number | null;
}

/** The node's findings that are failing now, or changed or resolved since the window's start (the code narrows them). */
export function historyFindingsQuery(dialect: Dialect, node: string, since: number): { text: string; values: unknown[] } {
  const p = new Params(dialect);
  return {
    text: `SELECT fid, status, body, first_status, first_seen, changed_at, resolved_at FROM findings
      WHERE node = ${p.add(node)} AND ((resolved_at IS NULL AND status = 'fail') OR changed_at >= ${p.add(since)} OR resolved_at >= ${p.add(since)})`,
    values: p.values,
  };
}
