// Helpers shared by the renderers: grouping and counting findings. How a finding reads as text is in proto/finding-text.ts.
import type { Finding, Status } from '../../proto/report.js';

/** Findings grouped by component, groups in order of first appearance (the order checks run in). */
export function groupByComponent(findings: readonly Finding[]): Map<string, Finding[]> {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = groups.get(f.component);
    if (list) list.push(f);
    else groups.set(f.component, [f]);
  }
  return groups;
}

export function countStatuses(findings: readonly Pick<Finding, 'status'>[]): Record<Status, number> {
  const counts: Record<Status, number> = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
  for (const f of findings) counts[f.status]++;
  return counts;
}

/**
 * True when nothing Kubernetes runs here: no component in the report and no CIS check judged anything.
 * Host-level checks (kernel, ports, PKI, containers) may still have findings.
 */
export function noKubernetesComponents(findings: readonly Finding[], components: Record<string, unknown> | undefined): boolean {
  if (components && Object.keys(components).length > 0) return false;
  return findings.every((f) => f.cis === null || f.status === 'skip');
}
