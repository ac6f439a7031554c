// Plain-text output of `vigil-collector query`: a table per list, and key/value blocks with tables for the summary and
// one node. `--json` prints the REST answer instead.
import { getPath, isRecord } from '../../common/json.js';
import { compareCis, resourceName } from '../../proto/finding-text.js';
import type { Resource } from '../../proto/report.js';

type Row = Record<string, unknown>;

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.length ? v.join(',') : '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
};

function table(rows: readonly Row[], columns: ReadonlyArray<[header: string, pick: (r: Row) => unknown]>, maxWidth = 80): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((r) => columns.map(([, pick]) => cell(pick(r)).replace(/\s+/g, ' ').slice(0, maxWidth)));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map(([h]) => h.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** `label  value` lines, labels padded to one width. */
function block(pairs: ReadonlyArray<[label: string, value: string]>): string {
  const width = Math.max(...pairs.map(([l]) => l.length));
  return pairs.map(([l, v]) => `${l.padEnd(width)}  ${v}`).join('\n') + '\n';
}

const STATUS_ORDER = ['fail', 'error', 'warn', 'pass', 'skip'];
const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

/** `4 fail, 0 error, …` in a fixed order, from a record of counts. */
const counts = (record: unknown, order: readonly string[]): string =>
  order.map((k) => `${Number(getPath(record, k) ?? 0)} ${k}`).join(', ');

const percent = (rate: unknown): string => (typeof rate === 'number' ? `${(rate * 100).toFixed(1)}%` : '-');

const summaryLine = (s: unknown): string =>
  (isRecord(s) ? `${String(s.pass ?? 0)} pass / ${String(s.fail ?? 0)} fail / ${String(s.warn ?? 0)} warn` : '-');

const resourceOf = (r: Row): string => (isRecord(r.resource) ? resourceName(r.resource as Resource) : '-');

const FINDING_COLUMNS: ReadonlyArray<[string, (r: Row) => unknown]> = [
  ['severity', (r) => r.severity], ['status', (r) => (r.resolvedAt ? 'resolved' : r.status)], ['node', (r) => r.node],
  ['check', (r) => r.checkId], ['title', (r) => r.title], ['last seen', (r) => r.lastSeen],
];

/** Checks by CIS id in numeric order (1.2.9 before 1.2.10), then the checks without one by id. */
export function sortChecks(items: Row[]): Row[] {
  return [...items].sort((a, b) => {
    const [ca, cb] = [typeof a.cis === 'string' ? a.cis : null, typeof b.cis === 'string' ? b.cis : null];
    if (ca !== null && cb !== null) return compareCis(ca, cb) || String(a.checkId).localeCompare(String(b.checkId));
    if (ca !== null || cb !== null) return ca !== null ? -1 : 1;
    return String(a.checkId).localeCompare(String(b.checkId));
  });
}

const items = (body: unknown): Row[] => (isRecord(body) && Array.isArray(body.items) ? body.items.filter(isRecord) : []);

function renderSummary(body: unknown): string {
  const b = isRecord(body) ? body : {};
  const score = getPath(b, 'score.cluster');
  const out = block([
    ['nodes', `${Number(getPath(b, 'nodes.total') ?? 0)} total, ${Number(getPath(b, 'nodes.reporting') ?? 0)} reporting, ${Number(getPath(b, 'nodes.silent') ?? 0)} silent`],
    ['open findings', counts(getPath(b, 'findings.open'), STATUS_ORDER)],
    ['failing', counts(getPath(b, 'findings.failingBySeverity'), SEVERITY_ORDER)],
    ['correlations', counts(b.correlations, ['attack-path', 'drift', 'coverage'])],
    ['pass rate', `${percent(getPath(score, 'rate'))} (${summaryLine(score)})`],
    ['computed at', cell(b.computedAt)],
  ]);
  const components = getPath(b, 'score.components');
  const rows = isRecord(components)
    ? Object.entries(components).filter((e): e is [string, Row] => isRecord(e[1])).map(([name, s]) => ({ name, ...s }))
    : [];
  if (rows.length === 0) return out;
  return `${out}\n${table(rows, [['component', (r) => r.name], ['pass rate', (r) => percent(r.rate)], ['pass', (r) => r.pass],
    ['fail', (r) => r.fail], ['warn', (r) => r.warn]])}`;
}

function renderNode(body: unknown): string {
  const b = isRecord(body) ? body : {};
  const info = isRecord(b.info) ? b.info : {};
  const platform = [info.os, info.kernel, info.architecture].filter((v) => typeof v === 'string').join(', ');
  const findings = Array.isArray(b.findings) ? b.findings.filter(isRecord) : [];
  const events = (getPath(b, 'history.events') as unknown[] | undefined)?.filter(isRecord) ?? [];
  const parts = [block([
    ['node', cell(b.name)],
    ['roles', cell(b.roles)],
    ['status', cell(b.status)],
    ['last report', cell(b.lastReport)],
    ['last scan', cell(b.lastScan)],
    ['agent', cell(b.agentVersion)],
    ...(platform ? [['platform', platform] as [string, string]] : []),
    ['open findings', counts(b.summary, STATUS_ORDER)],
    ['pass rate', percent(b.passRate)],
  ])];
  parts.push(`\nFINDINGS (problems first${b.findingsTruncated ? `; the first ${findings.length}, --limit shows more` : ''})\n`);
  parts.push(table(findings, [['severity', (r) => r.severity], ['status', (r) => r.status], ['check', (r) => r.checkId],
    ['resource', resourceOf], ['title', (r) => r.title]]));
  if (events.length > 0) {
    parts.push('\nHISTORY (newest first)\n');
    parts.push(table(events, [['at', (r) => r.at], ['event', (r) => r.event], ['status', (r) => r.status], ['check', (r) => r.checkId]]));
  }
  return parts.join('');
}

/** How each answer prints as text. */
export const RENDERERS: Record<string, (body: unknown) => string> = {
  findings: (body) => table(items(body), FINDING_COLUMNS),
  nodes: (body) => table(items(body), [
    ['name', (r) => r.name], ['roles', (r) => r.roles], ['status', (r) => r.status], ['last report', (r) => r.lastReport],
    ['agent', (r) => r.agentVersion], ['summary', (r) => summaryLine(r.summary)],
  ]),
  node: renderNode,
  checks: (body) => table(items(body), [
    ['check', (r) => r.checkId], ['cis', (r) => r.cis], ['severity', (r) => r.severity], ['component', (r) => r.component],
    ['pass', (r) => getPath(r, 'counts.pass')], ['fail', (r) => getPath(r, 'counts.fail')], ['title', (r) => r.title],
  ]),
  correlations: (body) => table(items(body), [
    ['severity', (r) => r.severity], ['kind', (r) => r.kind], ['nodes', (r) => r.nodes], ['title', (r) => r.title],
  ], 120),
  summary: renderSummary,
};
