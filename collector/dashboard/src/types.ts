// The JSON the dashboard reads from the collector's REST API (collector/README.md, API.md beside this folder).
import type { Finding, Severity, Status, Summary } from '../../../proto/report.js';

export type { Finding, Severity, Status, Summary };

export interface PassRate { pass: number; fail: number; warn: number; rate: number | null }

export interface ClusterSummary {
  nodes: { total: number; reporting: number; silent: number };
  findings: { open: Summary; failingBySeverity: Record<Severity, number> };
  correlations: Record<string, number>;
  score: { cluster: PassRate; components: Record<string, PassRate>; sections: Record<string, PassRate> };
  computedAt: string;
}

export interface StoredFinding extends Finding {
  node: string;
  firstSeen: string;
  lastSeen: string;
  changedAt: string;
  resolvedAt: string | null;
}

export interface Page<T> { items: T[]; nextCursor: string | null }

export interface NodeItem {
  name: string;
  roles: string[];
  lastReport: string;
  lastScan: string;
  firstSeen: string;
  agentVersion: string | null;
  status: 'reporting' | 'silent';
  summary: Summary;
  passRate: number | null;
  /** API.md: failing open findings by severity (phase 2); absent on older collectors. */
  failingBySeverity?: Record<Severity, number>;
}

export interface FindingEvent {
  node: string;
  findingId: string;
  checkId: string;
  at: string;
  status: Status | 'resolved';
  event: 'new' | 'changed' | 'resolved' | 'reopened';
}

export interface NodeDetail extends NodeItem {
  lastSeq: number | null;
  info: {
    os?: string; kernel?: string; architecture?: string; cpus?: number; memoryBytes?: number;
    components?: Record<string, { version?: string; source?: string }>;
    [key: string]: unknown;
  };
  findings: StoredFinding[];
  findingsTruncated: boolean;
  history: { events: FindingEvent[]; scores: Array<{ at: string; summary: Summary; passRate: number | null }> };
}

export interface EvidenceRef { node: string; findingId: string; checkId: string; status?: string; value?: unknown }

export interface Correlation {
  id: string;
  kind: 'drift' | 'attack-path' | 'coverage';
  rule: string;
  severity: Severity;
  title: string;
  nodes: string[];
  evidence: EvidenceRef[];
  detail?: string;
  /** API.md (drift, phase 2): the role set compared and what most of it has. */
  role?: string;
  baseline?: { value?: unknown; status?: string; nodes: number; of: number };
}

export interface Correlations { items: Correlation[]; total: number; computedAt: string }

export interface CheckItem {
  checkId: string; cis: string | null; title: string; component: string; severity: Severity; counts: Summary; passRate: number | null;
}

/** API.md: GET /api/v1/trend. */
export interface TrendPoint { at: string; failing: Record<Severity, number>; open?: Summary }
export interface Trend { step: string; from: string; to: string; points: TrendPoint[] }

/** API.md: GET /api/v1/changes. */
export interface Change {
  at: string; node: string; findingId: string; checkId: string; event: FindingEvent['event'];
  status: Status | 'resolved'; severity: Severity; title: string; component: string;
}

/** API.md: GET /api/v1/nodes/{name}/history. */
export interface HistoryItem {
  findingId: string; checkId: string; title: string; severity: Severity; component: string;
  resource: Finding['resource'];
  status: Status | 'resolved';
  openedAt: string | null;
  resolvedAt: string | null;
  events: Array<{ at: string; event: FindingEvent['event']; status: Status | 'resolved' }>;
}
