// The REST shapes: stored records → the response bodies of schemas.ts, with RFC 3339 times.
import { passRate } from '../correlate/score.js';
import type { NodeRecord, StoredFinding } from '../store/types.js';
import type { FindingViewT, NodeViewT } from './schemas.js';

export const iso = (ms: number): string => new Date(ms).toISOString();

export function presentFinding(f: StoredFinding): FindingViewT {
  return {
    ...f.finding,
    node: f.node,
    firstSeen: iso(f.firstSeen),
    lastSeen: iso(f.lastSeen),
    changedAt: iso(f.changedAt),
    resolvedAt: f.resolvedAt === null ? null : iso(f.resolvedAt),
  };
}

type NodeStatus = NodeViewT['status'];

const nodeStatus = (n: NodeRecord, now: number, silentAfterMs: number): NodeStatus =>
  (now - n.lastReport > silentAfterMs ? 'silent' : 'reporting');

export function presentNode(n: NodeRecord, now: number, silentAfterMs: number): NodeViewT {
  return {
    name: n.name,
    roles: n.roles,
    lastReport: iso(n.lastReport),
    lastScan: iso(n.lastScan),
    firstSeen: iso(n.firstSeen),
    agentVersion: n.agentVersion,
    status: nodeStatus(n, now, silentAfterMs),
    summary: n.summary,
    failingBySeverity: n.failingBySeverity,
    passRate: passRate(n.summary).rate,
  };
}
