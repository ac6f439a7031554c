// A check is data (id, CIS id, severity, title, remediation), the facts it reads, and one small pure function over
// the snapshot. Most CIS checks are written as rows of a benchmark table (rows.ts) and compiled into this shape.
import type { Evidence, Finding, Resource, Severity, Status } from '../../proto/report.js';
import type { Input } from '../facts/inputs.js';
import type { Snapshot } from '../facts/snapshot.js';

/** One verdict of a check on one resource. A check returns one per resource it judges (files, containers, ...). */
export interface Verdict {
  status: Status;
  resource: Resource;
  evidence: Evidence;
  /** Overrides the check's severity for this verdict (e.g. critical when two facts combine). */
  severity?: Severity;
  /** Overrides the check's title (e.g. naming the hostPath that is mounted). */
  title?: string;
  /** Distinguishes verdicts of one check on one resource (e.g. the mounted path); part of the finding id. */
  discriminator?: string;
}

export interface Check {
  id: string;
  cis: string | null;
  title: string;
  severity: Severity;
  /** Component it judges (`kubelet`, `kube-apiserver`, `etcd`, ..., or `cluster`, `container`, `node`). */
  component: string;
  remediation: string;
  /** Pod Security Admission check id and level, for container checks. */
  pss?: string;
  level?: 'baseline' | 'restricted';
  /** Where Vigil's verdict intentionally differs from kube-bench's, and why. */
  differsFromKubeBench?: string;
  /** Every fact `evaluate` reads: watch targets and the checks re-run after a file changes are derived from these. */
  reads: readonly Input[];
  evaluate(snapshot: Snapshot): Verdict[];
}

/** The data part of a check: everything but what it reads and how it judges. */
export type CheckMeta = Omit<Check, 'evaluate' | 'reads'>;

/** What a judge decides about one resource; the check's factory adds the resource and turns it into a Verdict. */
export interface Judgement {
  status: Status;
  evidence: Evidence;
  /** Overrides the check's severity (e.g. critical when two facts combine). */
  severity?: Severity;
  title?: string;
  discriminator?: string;
}

/** A stable finding id: same check + same resource (+ discriminator) ⇒ same id, scan after scan. */
export function findingId(checkId: string, resource: Resource, discriminator?: string): string {
  const { kind } = resource;
  let key: string;
  switch (resource.kind) {
    case 'file': key = resource.path; break;
    case 'component': key = resource.component; break;
    case 'container': key = resource.namespace && resource.pod && resource.container
      ? `${resource.namespace}/${resource.pod}/${resource.container}` : resource.id; break;
    case 'port': key = `${resource.protocol}/${resource.address}/${resource.port}`; break;
    case 'certificate': key = resource.path; break;
    case 'kernel': key = resource.key; break;
    default: key = '';
  }
  const raw = `${checkId}|${kind}|${key}|${discriminator ?? ''}`;
  let id = knownIds.get(raw);
  if (id === undefined) {
    id = `${checkId}:${hash64(raw)}`;
    if (knownIds.size >= KNOWN_IDS_MAX) knownIds.clear();
    knownIds.set(raw, id);
  }
  return id;
}

/** Ids computed before: a rescan of a busy node asks for the same thousands of ids, and a Map lookup is native. */
const knownIds = new Map<string, string>();
const KNOWN_IDS_MAX = 200_000;

/**
 * A fast, stable 64-bit string hash (two cyrb53 lanes, 32 bits each). Ids need stability and few collisions within
 * one node, not cryptographic strength, and a scan of a busy node computes thousands of them.
 */
function hash64(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

export function toFinding(check: Check, verdict: Verdict): Finding {
  const finding: Finding = {
    id: findingId(check.id, verdict.resource, verdict.discriminator),
    checkId: check.id,
    cis: check.cis,
    status: verdict.status,
    severity: verdict.severity ?? check.severity,
    title: verdict.title ?? check.title,
    component: check.component,
    resource: verdict.resource,
    evidence: verdict.evidence,
    remediation: check.remediation,
  };
  if (check.pss) finding.pss = check.pss;
  if (check.level) finding.level = check.level;
  return finding;
}

/** Runs checks; a check that throws becomes an `error` finding instead of ending the scan. */
export function evaluate(snapshot: Snapshot, checks: readonly Check[]): Finding[] {
  const findings: Finding[] = [];
  for (const check of checks) {
    let verdicts: Verdict[];
    try {
      verdicts = check.evaluate(snapshot);
    } catch (err) {
      verdicts = [{
        status: 'error',
        resource: { kind: 'node' },
        evidence: { source: 'evaluator', detail: err instanceof Error ? err.message : String(err) },
      }];
    }
    for (const v of verdicts) findings.push(toFinding(check, v));
  }
  return findings;
}
