// The REST shapes: stored records → JSON with RFC 3339 times.
import type { NodeRecord, StoredFinding } from '../store/types.js';
import { passRate } from '../correlate/score.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export function presentFinding(f: StoredFinding): Record<string, unknown> {
  return {
    ...f.finding,
    node: f.node,
    firstSeen: iso(f.firstSeen),
    lastSeen: iso(f.lastSeen),
    changedAt: iso(f.changedAt),
    resolvedAt: f.resolvedAt === null ? null : iso(f.resolvedAt),
  };
}

export type NodeStatus = 'reporting' | 'silent';

export const nodeStatus = (n: NodeRecord, now: number, silentAfterMs: number): NodeStatus =>
  (now - n.lastReport > silentAfterMs ? 'silent' : 'reporting');

export function presentNode(n: NodeRecord, now: number, silentAfterMs: number): Record<string, unknown> {
  return {
    name: n.name,
    roles: n.roles,
    lastReport: iso(n.lastReport),
    lastScan: iso(n.lastScan),
    firstSeen: iso(n.firstSeen),
    agentVersion: n.agentVersion,
    status: nodeStatus(n, now, silentAfterMs),
    summary: n.summary,
    passRate: passRate(n.summary).rate,
  };
}

export { iso };
