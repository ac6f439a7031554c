// The table for people: column headers, findings grouped by component, within a group failures first (most severe
// first), then errors, warnings and passes, and one line for the skipped checks; each failure with its remediation.
// The table uses the terminal's width; titles and evidence wrap within their columns and are never cut. Everything
// printed is host data (paths, flag values) and may be hostile: control characters are made visible so a crafted
// file name cannot move the cursor or recolour the terminal.
import { STATUSES, severityRank } from '../../proto/findings.js';
import type { Finding, NodeReport, Status } from '../../proto/report.js';
import { countStatuses, groupByComponent, noKubernetesComponents } from './common.js';
import { compareCis, evidenceLines, evidenceText, resourceName } from '../../proto/finding-text.js';
import type { RenderOptions } from './index.js';

/** Width when the output is not a terminal (a file, a pipe, a CI log). */
const DEFAULT_WIDTH = 120;
const MIN_WIDTH = 60;
/** Below this width resource and evidence go under the title instead of beside it. */
const COLUMNS_FROM = 100;
const INDENT = '  ';
const FIXED = { status: 6, severity: 8, cis: 7 } as const;
const HEADERS = { status: 'STATUS', severity: 'SEVERITY', cis: 'CIS', title: 'CHECK', resource: 'RESOURCE', evidence: 'EVIDENCE' };
/** Where the title column starts. */
const TITLE_AT = INDENT.length + FIXED.status + 1 + FIXED.severity + 1 + FIXED.cis + 1;

const STATUS_COLOR: Record<Status, string> = { pass: '32', fail: '31', warn: '33', skip: '2', error: '35' };
/** Order of statuses within a group (skips are collapsed after them). */
const STATUS_ORDER: Record<Status, number> = { fail: 0, error: 1, warn: 2, pass: 3, skip: 4 };

/** Control characters (C0, DEL, C1) shown as \xNN instead of being sent to the terminal. */
export function visible(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

const len = (text: string): number => [...text].length;

/** Cuts text to width with an ellipsis, at a word boundary when one is near the end. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  const cut = chars.slice(0, width - 1).join('');
  const space = cut.lastIndexOf(' ');
  return (space >= width - 12 ? cut.slice(0, space) : cut).trimEnd() + '…';
}

/** Keeps the end of a path (the file name) when it is too long: …/pki/apiserver.key. */
export function truncateLeft(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  const tail = chars.slice(chars.length - width + 1).join('');
  const slash = tail.indexOf('/');
  return '…' + (slash > 0 && slash < 12 ? tail.slice(slash) : tail);
}

/** Lines of at most `width` characters, broken at spaces; a word longer than the width is broken inside. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/).filter(Boolean)) {
    let rest = word;
    while (len(rest) > width) {
      if (line) { lines.push(line); line = ''; }
      const chars = [...rest];
      lines.push(chars.slice(0, width).join(''));
      rest = chars.slice(width).join('');
    }
    if (!rest) continue;
    if (!line) line = rest;
    else if (len(line) + 1 + len(rest) <= width) line += ' ' + rest;
    else { lines.push(line); line = rest; }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - len(text)));

function paint(text: string, code: string, color: boolean): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

interface Columns { title: number; resource: number; evidence: number }

/** The flexible columns for this report at this width: natural widths when they fit, else shares of the room. */
function layout(findings: readonly Finding[], width: number): Columns {
  const room = width - TITLE_AT - 2;
  const natural = { title: HEADERS.title.length, resource: HEADERS.resource.length, evidence: HEADERS.evidence.length };
  for (const f of findings) {
    if (f.status === 'skip') continue;
    natural.title = Math.max(natural.title, len(visible(f.title)));
    const resource = resourceName(f.resource);
    if (resource !== f.component) natural.resource = Math.max(natural.resource, len(visible(resource)));
    natural.evidence = Math.max(natural.evidence, len(visible(evidenceText(f.evidence))));
  }
  if (natural.title + natural.resource + natural.evidence <= room) {
    return { ...natural, evidence: room - natural.title - natural.resource };
  }
  const resource = Math.min(natural.resource, Math.max(16, Math.floor(room * 0.3)));
  const title = Math.min(natural.title, Math.max(20, Math.floor((room - resource) * 0.55)));
  return { title, resource, evidence: Math.max(12, room - resource - title) };
}

/** Text under the title column, wrapped to the rest of the line. */
function underTitle(text: string, width: number): string[] {
  return wrap(text, Math.max(20, width - TITLE_AT)).map((l) => ' '.repeat(TITLE_AT) + l);
}

type Style = Required<Pick<RenderOptions, 'color' | 'details'>>;

function fixedCells(f: Finding, first: boolean, color: boolean): string[] {
  if (!first) return [' '.repeat(FIXED.status), ' '.repeat(FIXED.severity), ' '.repeat(FIXED.cis)];
  return [
    paint(pad(f.status.toUpperCase(), FIXED.status), STATUS_COLOR[f.status], color),
    paint(pad(f.severity, FIXED.severity), '1;31', color && f.severity === 'critical'),
    pad(visible(f.cis ?? '-'), FIXED.cis),
  ];
}

/** One row per line: title, resource and evidence side by side, each wrapped in its column. */
function columnLines(f: Finding, cols: Columns, color: boolean): string[] {
  const resource = resourceName(f.resource);
  const title = wrap(visible(f.title), cols.title);
  // A finding about the component itself names no resource: its evidence gets the resource column too.
  const ownResource = resource !== f.component;
  const evidence = wrap(visible(evidenceText(f.evidence)), ownResource ? cols.evidence : cols.resource + 1 + cols.evidence);
  const lines: string[] = [];
  for (let i = 0; i < Math.max(title.length, evidence.length); i++) {
    const columns = [...fixedCells(f, i === 0, color), pad(title[i] ?? '', cols.title)];
    if (ownResource) columns.push(pad(i === 0 ? truncateLeft(visible(resource), cols.resource) : '', cols.resource));
    columns.push(evidence[i] ?? '');
    lines.push((INDENT + columns.join(' ')).trimEnd());
  }
  return lines;
}

/** Narrow terminals: the title on the finding's line, `resource: evidence` under it. */
function stackedLines(f: Finding, width: number, color: boolean): string[] {
  const resource = resourceName(f.resource);
  const title = wrap(visible(f.title), Math.max(20, width - TITLE_AT));
  const lines = title.map((t, i) => (INDENT + [...fixedCells(f, i === 0, color), t].join(' ')).trimEnd());
  const evidence = visible(evidenceText(f.evidence));
  const about = resource !== f.component ? `${visible(resource)}: ${evidence}` : evidence;
  if (about) lines.push(...underTitle(about, width));
  return lines;
}

function findingLines(f: Finding, cols: Columns | undefined, width: number, style: Style): string[] {
  const lines = cols ? columnLines(f, cols, style.color) : stackedLines(f, width, style.color);
  if (style.details) {
    for (const l of evidenceLines(f.evidence)) lines.push(...underTitle(visible(l), width));
    const resource = resourceName(f.resource);
    if (cols && resource !== f.component && len(visible(resource)) > cols.resource) lines.push(...underTitle(`resource: ${visible(resource)}`, width));
  }
  if (f.status === 'fail' || (style.details && f.status !== 'pass')) lines.push(...underTitle(`fix: ${visible(f.remediation)}`, width));
  return lines;
}

function bySeverityFirst(a: Finding, b: Finding): number {
  return STATUS_ORDER[a.status] - STATUS_ORDER[b.status]
    || severityRank(b.severity) - severityRank(a.severity)
    || (a.cis !== null && b.cis !== null ? compareCis(a.cis, b.cis) : 0);
}

function skippedLine(skipped: Finding[], width: number, color: boolean): string[] {
  const ids = skipped.map((f) => visible(f.cis ?? f.checkId));
  const reasons = [...new Set(skipped.map((f) => f.evidence.detail).filter((d): d is string => Boolean(d)))];
  const why = reasons.length === 1 ? ` (${visible(reasons[0])})` : '';
  const text = `${skipped.length} not applicable here${why}: ${ids.join(', ')}`;
  const lines = wrap(text, Math.max(20, width - TITLE_AT));
  return lines.map((l, i) => (i === 0
    ? `${INDENT}${paint(pad('SKIP', FIXED.status), STATUS_COLOR.skip, color)} ${' '.repeat(FIXED.severity)} ${' '.repeat(FIXED.cis)} ${l}`
    : ' '.repeat(TITLE_AT) + l).trimEnd());
}

function summaryLine(counts: Record<Status, number>): string {
  return STATUSES.map((s) => `${counts[s]} ${s}`).join(', ');
}

function groupLines(component: string, findings: Finding[], cols: Columns | undefined, width: number, opts: Style): string[] {
  const counts = countStatuses(findings);
  const nonZero = STATUSES.filter((st) => counts[st] > 0).map((st) => `${counts[st]} ${st}`).join(', ');
  const heading = `${paint(visible(component), '1', opts.color)}  (${nonZero})`;
  // A component that does not run here skips all its checks: one line says so instead of dozens.
  if (counts.skip === findings.length && findings.length > 1) {
    const why = findings[0].evidence.detail ?? evidenceText(findings[0].evidence);
    return [heading, ...wrap(`all ${findings.length} checks skipped${why ? `: ${visible(why)}` : ''}`, width - INDENT.length).map((l) => INDENT + l)];
  }
  const shown = findings.filter((f) => opts.details || f.status !== 'skip').sort(bySeverityFirst);
  const skipped = findings.filter((f) => f.status === 'skip');
  const lines = [heading, ...shown.flatMap((f) => findingLines(f, cols, width, opts))];
  if (!opts.details && skipped.length > 0) lines.push(...skippedLine(skipped, width, opts.color));
  return lines;
}

function headerLine(cols: Columns | undefined): string {
  const fixed = [pad(HEADERS.status, FIXED.status), pad(HEADERS.severity, FIXED.severity), pad(HEADERS.cis, FIXED.cis)];
  const rest = cols
    ? [pad(HEADERS.title, cols.title), pad(HEADERS.resource, cols.resource), HEADERS.evidence]
    : [`${HEADERS.title} (${HEADERS.resource}: ${HEADERS.evidence} below)`];
  return (INDENT + [...fixed, ...rest].join(' ')).trimEnd();
}

function noComponentsLines(report: NodeReport, width: number): string[] {
  const hostLevel = report.findings.filter((f) => f.cis === null);
  const judged = hostLevel.filter((f) => f.status !== 'skip');
  const skipped = report.findings.length - hostLevel.length;
  const lines = wrap('No Kubernetes components found on this node (no kubelet, control-plane, etcd or kube-proxy '
    + 'process or static pod manifest)', width);
  if (skipped > 0) lines.push(`${INDENT}${skipped} CIS checks skipped.`);
  if (judged.length === 0) {
    lines.push(`${INDENT}Nothing else could be judged${hostLevel.length > 0 ? ` (${hostLevel.length} host-level checks skipped too)` : ''}.`);
  } else {
    const components = [...groupByComponent(judged).keys()].map(visible).join(', ');
    lines.push(...wrap(`Judged instead: ${judged.length} host-level findings (${components}): ${summaryLine(countStatuses(judged))}.`,
      width - INDENT.length).map((l) => INDENT + l));
  }
  return lines;
}

export function render(report: NodeReport, opts: RenderOptions = {}): string {
  const color = opts.color === true;
  const width = Math.max(MIN_WIDTH, Math.floor(opts.width ?? DEFAULT_WIDTH));
  const style = { color, details: opts.details === true };
  const node = report.node;
  const roles = node.roles.length > 0 ? ` (${node.roles.join(', ')})` : '';
  const agent = node.agentVersion ? `Vigil ${node.agentVersion}` : 'Vigil';
  const lines = [...wrap(visible(`${agent} · node ${node.name}${roles} · scanned ${report.scannedAt}`), width), ''];

  const empty = noKubernetesComponents(report.findings, node.components);
  if (empty) lines.push(...noComponentsLines(report, width), '');
  const shown = empty ? report.findings.filter((f) => f.cis === null) : report.findings;
  const cols = width >= COLUMNS_FROM ? layout(shown, width) : undefined;
  if (shown.length > 0) lines.push(headerLine(cols));
  for (const [component, findings] of groupByComponent(shown)) {
    lines.push(...groupLines(component, findings, cols, width, style), '');
  }
  lines.push(summaryLine(countStatuses(report.findings)));
  return lines.join('\n') + '\n';
}
