// Small builders for collector tests: findings and reports shaped like `vigil-agent scan --format json`.
import { findingId } from '../../../agent/evaluate/check.js';
import { summarize, type Finding, type NodeReport, type Resource } from '../../../proto/report.js';
import type { FullReportMessage } from '../../../collector/ingest/types.js';

interface FindingSpec extends Partial<Omit<Finding, 'resource' | 'evidence'>> {
  checkId: string;
  resource?: Finding['resource'];
  value?: unknown;
  evidence?: Finding['evidence'];
}

export function finding(spec: FindingSpec): Finding {
  const resource: Finding['resource'] = spec.resource ?? { kind: 'component', component: String(spec.component ?? 'kubelet') };
  const { value, ...rest } = spec;
  return {
    id: findingId(spec.checkId, resource as Resource),
    cis: null,
    status: 'pass',
    severity: 'medium',
    title: `check ${spec.checkId}`,
    component: 'kubelet',
    remediation: 'fix it',
    ...rest,
    resource,
    evidence: spec.evidence ?? { source: 'flag', key: spec.checkId, ...(value === undefined ? {} : { value }) },
  };
}

export function report(node: string, findings: Finding[], opts: { roles?: string[]; scannedAt?: string | Date } = {}): NodeReport {
  const at = opts.scannedAt ?? '2025-01-01T00:00:00Z';
  return {
    schemaVersion: 1,
    node: { name: node, roles: opts.roles ?? ['worker'], agentVersion: '0.1.0', kernel: '6.1.0' },
    scannedAt: typeof at === 'string' ? at : at.toISOString(),
    findings,
    summary: summarize(findings),
  };
}

export function full(r: NodeReport, seq?: number): FullReportMessage {
  return { kind: 'full', node: r.node.name, report: r, ...(seq === undefined ? {} : { seq }) };
}

export const T0 = Date.parse('2025-01-01T00:00:00Z');
export const iso = (ms: number): string => new Date(ms).toISOString();
