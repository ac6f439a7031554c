// Helpers for the scenario tests: build a fixture host, scan it, compare verdicts per CIS id with a table.
import type { Finding, NodeReport, Status } from '../../../proto/report.js';
import { buildHost, type BuiltHost, type HostSpec } from '../../fixtures/build.js';
import { scanNode } from '../../../agent/scan.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';

/** Every CIS id of sections 1-4 (cis-checks.tsv): each must produce at least one finding on every node. */
export const CIS_NODE_IDS = (
  '1.1.1 1.1.2 1.1.3 1.1.4 1.1.5 1.1.6 1.1.7 1.1.8 1.1.9 1.1.10 1.1.11 1.1.12 1.1.13 1.1.14 1.1.15 1.1.16 1.1.17 ' +
  '1.1.18 1.1.19 1.1.20 1.1.21 1.2.1 1.2.2 1.2.3 1.2.4 1.2.5 1.2.6 1.2.7 1.2.8 1.2.9 1.2.10 1.2.11 1.2.12 1.2.13 ' +
  '1.2.14 1.2.15 1.2.16 1.2.17 1.2.18 1.2.19 1.2.20 1.2.21 1.2.22 1.2.23 1.2.24 1.2.25 1.2.26 1.2.27 1.2.28 1.2.29 ' +
  '1.2.30 1.3.1 1.3.2 1.3.3 1.3.4 1.3.5 1.3.6 1.3.7 1.4.1 1.4.2 2.1 2.2 2.3 2.4 2.5 2.6 2.7 3.1.1 3.1.2 3.1.3 3.2.1 ' +
  '3.2.2 4.1.1 4.1.2 4.1.3 4.1.4 4.1.5 4.1.6 4.1.7 4.1.8 4.1.9 4.1.10 4.2.1 4.2.2 4.2.3 4.2.4 4.2.5 4.2.6 4.2.7 ' +
  '4.2.8 4.2.9 4.2.10 4.2.11 4.2.12 4.2.13 4.2.14 4.3.1'
).split(' ');

export const CONTROL_PLANE_SECTIONS = /^(1|2|3)\./;

/** One expected status, or the few acceptable ones where the benchmark leaves the verdict open (say why at the use). */
export type Expected = Status | readonly Status[];

/** The verdict a CIS id gets on a node: the worst status among its findings (error > fail > warn > pass > skip). */
function aggregate(findings: readonly Finding[]): Status | 'missing' {
  if (findings.length === 0) return 'missing';
  for (const s of ['error', 'fail', 'warn', 'pass'] as const) if (findings.some((f) => f.status === s)) return s;
  return 'skip';
}

export function findingsFor(report: NodeReport, cis: string): Finding[] {
  return report.findings.filter((f) => f.cis === cis);
}

const brief = (f: Finding): string => `${f.status} ${f.resource.kind === 'file' ? f.resource.path : f.resource.kind} ${JSON.stringify(f.evidence)}`;

/** Lines describing every CIS id whose verdict differs from the table; empty when all match. */
export function verdictMismatches(report: NodeReport, table: Record<string, Expected>): string[] {
  const out: string[] = [];
  for (const [cis, want] of Object.entries(table)) {
    const findings = findingsFor(report, cis);
    const got = aggregate(findings);
    const ok = typeof want === 'string' ? got === want : (want as readonly string[]).includes(got);
    if (!ok) {
      out.push(`${cis}: expected ${typeof want === 'string' ? want : want.join('|')}, got ${got}` +
        (findings.length ? ` — ${findings.slice(0, 3).map(brief).join(' ; ')}` : ''));
    }
  }
  return out;
}

/** True when the evidence shows this mode: as octal text ("644", "0644", "0o644", "-rw-r--r--") or as the number. */
export function evidenceShowsMode(f: Finding, mode: number): boolean {
  const octal = mode.toString(8);
  const text = JSON.stringify(f.evidence);
  const symbolic = symbolicMode(mode);
  const values = Object.values(f.evidence);
  return values.includes(mode) || new RegExp(`(^|[^0-9])(0o?)?${octal}([^0-9]|$)`).test(text) || text.includes(symbolic);
}

function symbolicMode(mode: number): string {
  const rwx = ['r', 'w', 'x'];
  let s = '';
  for (let i = 8; i >= 0; i--) s += mode & (1 << i) ? rwx[(8 - i) % 3] : '-';
  return s;
}

/** True when the finding's evidence mentions every fragment (case-insensitive). */
export function evidenceMentions(f: Finding, fragments: readonly string[]): boolean {
  const text = JSON.stringify(f.evidence).toLowerCase();
  return fragments.every((frag) => text.includes(frag.toLowerCase()));
}

export interface Scanned {
  host: BuiltHost;
  report: NodeReport;
  snapshot: Snapshot;
}

export async function scanFixture(spec: HostSpec, opts: { nodeName?: string; only?: string[] } = {}): Promise<Scanned> {
  const host = buildHost(spec);
  try {
    const { report, snapshot } = await scanNode({ hostRoot: host.hostRoot, procRoot: host.procRoot, ...opts });
    return { host, report, snapshot };
  } catch (err) {
    host.cleanup();
    throw err;
  }
}

/** Findings about the control plane (sections 1-3) that are not `skip`: on a worker, only cluster-file ones may pass. */
export function controlPlaneNonSkips(report: NodeReport): Finding[] {
  return report.findings.filter((f) => f.cis !== null && CONTROL_PLANE_SECTIONS.test(f.cis) && f.status !== 'skip');
}
