// One scan: gather → evaluate → report. Used by `vigil-agent scan` and by the daemon's rescans.
import * as fs from 'node:fs';
import { summarize } from '../proto/findings.js';
import type { Finding, NodeReport } from '../proto/report.js';
import { gatherSnapshot, type GatherOptions } from './gather/index.js';
import { evaluate, toFinding, type Check } from './evaluate/check.js';
import { ALL_CHECKS } from './evaluate/catalogue.js';
import { gatherErrorCheck, unprivilegedScanCheck } from './evaluate/producers.js';
import type { Snapshot } from './facts/snapshot.js';
import { VIGIL_VERSION } from '../proto/version.js';

export interface ScanOptions extends GatherOptions {
  /** Check ids or CIS ids (a CIS prefix like `4.2` selects the whole section). */
  only?: string[];
}

export function selectChecks(only: string[] | undefined, checks: readonly Check[] = ALL_CHECKS): Check[] {
  if (!only || only.length === 0) return [...checks];
  return checks.filter((c) => only.some((sel) =>
    c.id === sel || (c.cis !== null && (c.cis === sel || c.cis.startsWith(sel + '.')))));
}

/** Options a scan cannot honour: exit 2 with this one-line message, before anything is scanned. */
export class ScanOptionsError extends Error {
  readonly exitCode = 2;
}

/**
 * Checks what a scan is asked to do before it runs, so a typo never yields a normal-looking report that a
 * `--fail-on` gate passes: the host and proc roots must be readable directories, and every `--only` selector
 * must select a check. Returns the checks selected; throws ScanOptionsError.
 */
export function validateScanOptions(opts: ScanOptions, checks: readonly Check[] = ALL_CHECKS): Check[] {
  for (const [flag, dir] of [['--host-root', opts.hostRoot], ['--proc-root', opts.procRoot]] as const) {
    const problem = unusableDir(dir);
    if (problem) throw new ScanOptionsError(`${flag} ${dir}: ${problem}`);
  }
  const unmatched = (opts.only ?? []).filter((sel) => selectChecks([sel], checks).length === 0);
  if (unmatched.length > 0) {
    const nearest = nearestIds(unmatched[0], checks);
    throw new ScanOptionsError(`--only ${unmatched.join(',')} selects no check${nearest.length > 0 ? `; nearest: ${nearest.join(', ')}` : ''}`);
  }
  return selectChecks(opts.only, checks);
}

function unusableDir(dir: string): string | undefined {
  let st: fs.Stats;
  try { st = fs.statSync(dir); } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'no such directory' : `cannot be read (${code})`;
  }
  if (!st.isDirectory()) return 'not a directory';
  try { fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK); } catch { return 'cannot be read (permission denied)'; }
  return undefined;
}

/** The check ids and CIS ids closest to a selector that matched nothing (edit distance, then shared prefix). */
function nearestIds(selector: string, checks: readonly Check[], count = 5): string[] {
  const ids = new Set<string>();
  for (const c of checks) {
    ids.add(c.id);
    if (c.cis) ids.add(c.cis);
  }
  const sel = selector.toLowerCase();
  return [...ids]
    .map((id) => ({ id, d: editDistance(sel, id.toLowerCase()), p: sharedPrefix(sel, id.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || b.p - a.p || a.id.localeCompare(b.id, undefined, { numeric: true }))
    .slice(0, count)
    .map((x) => x.id);
}

function sharedPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

export function buildReport(snapshot: Snapshot, checks: readonly Check[], scannedAt = new Date()): NodeReport {
  const findings: Finding[] = evaluate(snapshot, checks);
  for (const v of gatherErrorCheck.evaluate(snapshot)) findings.push(toFinding(gatherErrorCheck, v));
  for (const v of unprivilegedScanCheck.evaluate(snapshot)) findings.push(toFinding(unprivilegedScanCheck, v));
  const versions: Record<string, { version?: string; source?: string }> = {};
  for (const c of Object.values(snapshot.components)) {
    if (c) versions[c.name] = { version: c.version, source: c.source };
  }
  return {
    schemaVersion: 1,
    node: {
      ...snapshot.node,
      components: versions,
      agentVersion: VIGIL_VERSION,
    },
    scannedAt: scannedAt.toISOString(),
    findings,
    summary: summarize(findings),
  };
}

export async function scanNode(opts: ScanOptions): Promise<{ report: NodeReport; snapshot: Snapshot }> {
  const snapshot = await gatherSnapshot(opts);
  return { report: buildReport(snapshot, selectChecks(opts.only)), snapshot };
}
