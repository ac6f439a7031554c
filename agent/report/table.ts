// The table for people: findings grouped by component, one line per finding, a summary line.
// Everything printed is host data (paths, flag values) and may be hostile: control characters are made
// visible so a crafted file name cannot move the cursor or recolour the terminal.
import { STATUSES } from '../../proto/findings.js';
import type { Finding, NodeReport, Status } from '../../proto/report.js';
import { countStatuses, groupByComponent, noKubernetesComponents } from './common.js';
import { evidenceText, resourceName } from '../../proto/finding-text.js';
import type { RenderOptions } from './index.js';

const WIDTH = 120;
const INDENT = '  ';
const COL = { status: 5, severity: 8, cis: 7, title: 42, resource: 22 } as const;
const EVIDENCE_WIDTH = WIDTH - INDENT.length - Object.values(COL).reduce((a, b) => a + b + 1, 0);

const STATUS_COLOR: Record<Status, string> = { pass: '32', fail: '31', warn: '33', skip: '2', error: '35' };

/** Control characters (C0, DEL, C1) shown as \xNN instead of being sent to the terminal. */
export function visible(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

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

function cell(text: string, width: number, left = false): string {
  const fitted = left ? truncateLeft(text, width) : truncate(text, width);
  return fitted + ' '.repeat(Math.max(0, width - [...fitted].length));
}

function paint(text: string, code: string, color: boolean): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function findingLine(f: Finding, color: boolean): string {
  const resource = resourceName(f.resource);
  const evidence = visible(evidenceText(f.evidence));
  const columns = [
    paint(cell(f.status.toUpperCase(), COL.status), STATUS_COLOR[f.status], color),
    paint(cell(f.severity, COL.severity), '1;31', color && f.severity === 'critical'),
    cell(visible(f.cis ?? '-'), COL.cis),
    cell(visible(f.title), COL.title),
  ];
  // A finding about the component itself names no resource: its evidence gets the resource column too.
  if (resource === f.component) columns.push(truncate(evidence, COL.resource + 1 + EVIDENCE_WIDTH));
  else columns.push(cell(visible(resource), COL.resource, true), truncate(evidence, EVIDENCE_WIDTH));
  return (INDENT + columns.join(' ')).trimEnd();
}

function summaryLine(counts: Record<Status, number>): string {
  return STATUSES.map((s) => `${counts[s]} ${s}`).join(', ');
}

function groupLines(component: string, findings: Finding[], color: boolean): string[] {
  const counts = countStatuses(findings);
  const nonZero = STATUSES.filter((st) => counts[st] > 0).map((st) => `${counts[st]} ${st}`).join(', ');
  const heading = `${paint(visible(component), '1', color)}  (${nonZero})`;
  // A component that does not run here skips all its checks: one line says so instead of dozens.
  if (counts.skip === findings.length && findings.length > 1) {
    const why = findings[0].evidence.detail ?? evidenceText(findings[0].evidence);
    return [heading, truncate(`${INDENT}all ${findings.length} checks skipped${why ? `: ${visible(why)}` : ''}`, WIDTH)];
  }
  return [heading, ...findings.map((f) => findingLine(f, color))];
}

function noComponentsLines(report: NodeReport): string[] {
  const hostLevel = report.findings.filter((f) => f.cis === null);
  const judged = hostLevel.filter((f) => f.status !== 'skip');
  const skipped = report.findings.length - hostLevel.length;
  const lines = ['No Kubernetes components found on this node (no kubelet, control-plane, etcd or kube-proxy '
    + 'process or static pod manifest)'];
  if (skipped > 0) lines.push(`${INDENT}${skipped} CIS checks skipped.`);
  if (judged.length === 0) {
    lines.push(`${INDENT}Nothing else could be judged${hostLevel.length > 0 ? ` (${hostLevel.length} host-level checks skipped too)` : ''}.`);
  } else {
    const components = [...groupByComponent(judged).keys()].map(visible).join(', ');
    lines.push(`${INDENT}Judged instead: ${judged.length} host-level findings (${components}): ${summaryLine(countStatuses(judged))}.`);
  }
  return lines;
}

export function render(report: NodeReport, opts: RenderOptions = {}): string {
  const color = opts.color === true;
  const node = report.node;
  const roles = node.roles.length > 0 ? ` (${node.roles.join(', ')})` : '';
  const agent = node.agentVersion ? `Vigil ${node.agentVersion}` : 'Vigil';
  const lines = [visible(`${agent} · node ${node.name}${roles} · scanned ${report.scannedAt}`), ''];

  const empty = noKubernetesComponents(report.findings, node.components);
  if (empty) lines.push(...noComponentsLines(report), '');
  const shown = empty ? report.findings.filter((f) => f.cis === null) : report.findings;
  for (const [component, findings] of groupByComponent(shown)) {
    lines.push(...groupLines(component, findings, color), '');
  }
  lines.push(summaryLine(countStatuses(report.findings)));
  return lines.join('\n') + '\n';
}
