// One scan: gather → evaluate → report. Used by `vigil-agent scan` and by the daemon's rescans.
import { summarize } from '../proto/findings.js';
import type { Finding, NodeReport } from '../proto/report.js';
import { gatherSnapshot, type GatherOptions } from './gather/index.js';
import { evaluate, toFinding, type Check } from './evaluate/check.js';
import { ALL_CHECKS } from './evaluate/catalogue.js';
import { gatherErrorCheck } from './evaluate/producers.js';
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

export function buildReport(snapshot: Snapshot, checks: readonly Check[], scannedAt = new Date()): NodeReport {
  const findings: Finding[] = evaluate(snapshot, checks);
  for (const v of gatherErrorCheck.evaluate(snapshot)) findings.push(toFinding(gatherErrorCheck, v));
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
