// SARIF 2.1.0, for code-scanning dashboards. One run, tool "vigil", one rule per distinct check id.
// Results: fail and warn findings only (SARIF viewers treat every result as an alert, so passes and
// skips are left out). `error` findings are not results about the node but about the scan itself
// (a fact that could not be read): they go to invocations[0].toolExecutionNotifications.
import type { Finding, NodeReport, Resource, Severity } from '../../proto/report.js';
import { evidenceText, resourceName } from '../../proto/finding-text.js';

type Level = 'error' | 'warning' | 'note';

const LEVEL: Record<Severity, Level> = {
  critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note',
};
// GitHub code scanning ranks alerts by this CVSS-like score.
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0',
};

function level(f: Finding): Level {
  const mapped = LEVEL[f.severity];
  // A warning ("could not decide", "review this") is never louder than `warning`.
  return f.status === 'warn' && mapped === 'error' ? 'warning' : mapped;
}

/** file:///etc/kubernetes/... with each segment percent-encoded. */
export function fileUri(path: string): string {
  return 'file://' + path.split('/').map(encodeURIComponent).join('/');
}

function logicalName(r: Resource, node: string): string {
  return `${node}/${r.kind}/${resourceName(r)}`;
}

function locations(f: Finding, node: string): object[] {
  const r = f.resource;
  if ((r.kind === 'file' || r.kind === 'certificate') && r.path.startsWith('/')) {
    return [{ physicalLocation: { artifactLocation: { uri: fileUri(r.path) } } }];
  }
  return [{ logicalLocations: [{ name: resourceName(r), kind: 'resource', fullyQualifiedName: logicalName(r, node) }] }];
}

function message(f: Finding): string {
  const evidence = evidenceText(f.evidence);
  const where = resourceName(f.resource);
  return `${f.title} (${where})${evidence ? `: ${evidence}` : ''}`;
}

interface Rule { id: string; finding: Finding }

function rules(findings: readonly Finding[]): Rule[] {
  const byId = new Map<string, Rule>();
  for (const f of findings) if (!byId.has(f.checkId)) byId.set(f.checkId, { id: f.checkId, finding: f });
  return [...byId.values()];
}

function ruleJson({ id, finding: f }: Rule): object {
  const properties: Record<string, unknown> = {
    severity: f.severity,
    'security-severity': SECURITY_SEVERITY[f.severity],
    tags: ['security', ...(f.cis ? ['cis'] : []), ...(f.pss ? ['pss'] : [])],
  };
  if (f.cis) properties.cis = f.cis;
  if (f.pss) properties.pss = f.pss;
  return {
    id,
    name: id,
    shortDescription: { text: f.title },
    help: { text: f.remediation },
    defaultConfiguration: { level: LEVEL[f.severity] },
    properties,
  };
}

function utc(timestamp: string): { endTimeUtc?: string } {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? {} : { endTimeUtc: date.toISOString() };
}

export function render(report: NodeReport): string {
  const node = report.node.name;
  const ruleList = rules(report.findings);
  const ruleIndex = new Map(ruleList.map((r, i) => [r.id, i]));
  const results = report.findings
    .filter((f) => f.status === 'fail' || f.status === 'warn')
    .map((f) => ({
      ruleId: f.checkId,
      ruleIndex: ruleIndex.get(f.checkId),
      kind: f.status === 'fail' ? 'fail' : 'review',
      level: level(f),
      message: { text: message(f) },
      locations: locations(f, node),
      partialFingerprints: { 'vigilFindingId/v1': f.id },
      properties: {
        status: f.status, severity: f.severity, component: f.component,
        ...(f.cis ? { cis: f.cis } : {}), evidence: f.evidence,
      },
    }));
  const notifications = report.findings
    .filter((f) => f.status === 'error')
    .map((f) => ({
      level: 'error',
      message: { text: message(f) },
      locations: locations(f, node),
      associatedRule: { id: f.checkId, index: ruleIndex.get(f.checkId) },
      properties: { findingId: f.id, evidence: f.evidence },
    }));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'vigil',
          ...(report.node.agentVersion ? { version: report.node.agentVersion } : {}),
          rules: ruleList.map(ruleJson),
        },
      },
      invocations: [{
        executionSuccessful: true,
        ...utc(report.scannedAt),
        toolExecutionNotifications: notifications,
      }],
      results,
      properties: { node: report.node, summary: report.summary },
    }],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
