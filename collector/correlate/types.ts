// Correlations: cluster-wide conclusions drawn from several findings, each pointing at its evidence.
import type { Severity } from '../../proto/report.js';
import type { ClusterSnapshot } from '../cluster/model.js';
import type { NodeRecord, SettingRow, StoredFinding } from '../store/types.js';

export const CORRELATION_KINDS = ['drift', 'attack-path', 'coverage'] as const;
export type CorrelationKind = (typeof CORRELATION_KINDS)[number];

export interface EvidenceRef {
  node: string;
  findingId: string;
  checkId: string;
  status?: string;
  value?: unknown;
}

export interface Correlation {
  /** Stable for the same rule and subject, so clients can track it across recomputations. */
  id: string;
  kind: CorrelationKind;
  rule: string;
  severity: Severity;
  title: string;
  nodes: string[];
  evidence: EvidenceRef[];
  detail?: string;
  /** Drift: the role set compared (sorted, comma-joined) … */
  role?: string;
  /** … and what most of it has: the value (or, for checks without a value, the status), on how many of how many nodes. */
  baseline?: DriftBaseline;
}

export interface DriftBaseline {
  value?: unknown;
  status?: string;
  nodes: number;
  of: number;
}

/** What every rule sees: the store's current state, read once per computation. */
export interface ClusterState {
  now: number;
  /** A node is silent when its last report is older than this. */
  silentAfterMs: number;
  nodes: NodeRecord[];
  /** Open findings the rules' inputs select (see facts.ts). */
  facts: StoredFinding[];
  /** Open node-level settings (drift input). */
  settings: SettingRow[];
  /** Check titles by check id, for readable correlation titles. */
  checkTitles: Map<string, string>;
  /** What the Kubernetes API says (pods, RBAC, NetworkPolicies), when the collector reads it. */
  cluster?: ClusterSnapshot;
}

export interface CorrelationRule {
  id: string;
  kind: CorrelationKind;
  /** What the rule concludes, for the rule catalogue (`GET /api/v1/correlations/rules`). */
  description: string;
  evaluate(state: ClusterState): Correlation[];
}

export const ref = (f: StoredFinding): EvidenceRef => ({
  node: f.node, findingId: f.finding.id, checkId: f.finding.checkId, status: f.finding.status,
  ...(f.finding.evidence.value === undefined ? {} : { value: f.finding.evidence.value }),
});
