// How a finding's parts read as text, the same in every report format, the collector's query tables and the dashboard.
import type { Evidence, Resource } from './report.js';

/** A short human name for what a finding is about. */
export function resourceName(resource: Resource): string {
  switch (resource.kind) {
    case 'node': return 'node';
    case 'component': return resource.component;
    case 'file': return resource.path;
    case 'certificate': return resource.path;
    case 'container':
      return resource.namespace && resource.pod && resource.container
        ? `${resource.namespace}/${resource.pod}/${resource.container}`
        : resource.id.slice(0, 12);
    case 'port': return `${resource.protocol} ${resource.address}:${resource.port}`;
    case 'kernel': return resource.key;
    case 'namespace': case 'pod': case 'serviceaccount': case 'role': case 'clusterrole': case 'rolebinding': case 'clusterrolebinding':
      return `${resource.kind} ${resource.namespace ? `${resource.namespace}/` : ''}${resource.name}`;
    default: return (resource as { kind: string }).kind;
  }
}

/** An evidence value as one line of text (arrays comma-joined, objects as JSON). */
export function formatValue(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.map(formatValue).join(',');
  if (typeof value === 'object') {
    // Several settings judged together ({"--tls-cert-file": "...", "tlsCertFile": null}): key=value each.
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${v === null || v === undefined ? 'unset' : formatValue(v)}`)
      .join(' ');
  }
  return String(value);
}

/** "value, want expected" — or the detail when the evidence has neither. */
export function evidenceText(evidence: Evidence): string {
  const value = formatValue(evidence.value);
  const parts: string[] = [];
  if (evidence.value !== undefined) parts.push(value === '' ? '""' : value);
  if (evidence.expected) parts.push(`want ${evidence.expected}`);
  if (parts.length === 0 && evidence.detail) return evidence.detail;
  return parts.join(', ');
}

/** Every line of what a finding rests on, for formats with room (JUnit bodies, kube-bench reasons). */
export function evidenceLines(evidence: Evidence): string[] {
  const lines = [`source: ${evidence.source}`];
  if (evidence.path) lines.push(`path: ${evidence.path}`);
  if (evidence.key) lines.push(`key: ${evidence.key}`);
  if (evidence.value !== undefined) lines.push(`value: ${formatValue(evidence.value)}`);
  if (evidence.expected) lines.push(`expected: ${evidence.expected}`);
  if (evidence.detail) lines.push(`detail: ${evidence.detail}`);
  return lines;
}

/** Orders CIS ids by their numeric parts (1.2.10 after 1.2.9); non-numeric parts compare as text. */
export function compareCis(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    const diff = Number.isInteger(na) && Number.isInteger(nb) ? na - nb : pa[i].localeCompare(pb[i]);
    if (diff !== 0) return diff;
  }
  return 0;
}
