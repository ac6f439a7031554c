// Plain-text tables for terminal output of `vigil-collector query`.
import { getPath, isRecord } from '../../common/json.js';

type Row = Record<string, unknown>;

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.join(',');
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

const summary = (s: unknown): string =>
  (isRecord(s) ? `${String(s.pass ?? 0)} pass / ${String(s.fail ?? 0)} fail / ${String(s.warn ?? 0)} warn` : '-');

export const RENDERERS: Record<string, (items: Row[]) => string> = {
  findings: (items) => table(items, [
    ['severity', (r) => r.severity], ['status', (r) => (r.resolvedAt ? 'resolved' : r.status)], ['node', (r) => r.node],
    ['check', (r) => r.checkId], ['title', (r) => r.title], ['last seen', (r) => r.lastSeen],
  ]),
  nodes: (items) => table(items, [
    ['name', (r) => r.name], ['roles', (r) => r.roles], ['status', (r) => r.status], ['last report', (r) => r.lastReport],
    ['agent', (r) => r.agentVersion], ['summary', (r) => summary(r.summary)],
  ]),
  checks: (items) => table(items, [
    ['check', (r) => r.checkId], ['cis', (r) => r.cis], ['severity', (r) => r.severity], ['component', (r) => r.component],
    ['pass', (r) => getPath(r, 'counts.pass')], ['fail', (r) => getPath(r, 'counts.fail')], ['title', (r) => r.title],
  ]),
  correlations: (items) => table(items, [
    ['severity', (r) => r.severity], ['kind', (r) => r.kind], ['nodes', (r) => r.nodes], ['title', (r) => r.title],
  ], 120),
};
