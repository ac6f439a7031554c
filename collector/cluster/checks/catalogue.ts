// The collector's own check catalogue: CIS Kubernetes Benchmark §5 judged from the API (and, for 5.4.1, the
// agents' view of the same containers). A row is data — id, CIS id, severity, title, remediation, the API kinds
// it reads — and one pure judge over a snapshot of the model. Rows live in rbac.ts, workloads.ts and
// namespaces.ts; evaluate() runs them all and turns verdicts into findings of node `cluster`.
import { createHash } from 'node:crypto';
import type { API_RESOURCE_KINDS, Evidence, Finding, Resource, Severity, Status } from '../../../proto/report.js';
import type { ClusterSnapshot } from '../model.js';
import type { ResourceKind } from '../objects.js';

/**
 * The node cluster findings are stored under. A real node could have this name too (Kubernetes node names are DNS
 * subdomains): the ingest path reserves it for the collector's own source, so no agent can write it.
 */
export const CLUSTER_NODE = 'cluster';

/** What the agents saw of a pod's containers: the secret-looking environment variable names they run with. */
export interface NodeSecretEnv {
  node: string;
  container: string;
  names: string[];
  findingId: string;
}

/** The agents' findings a row may join with, keyed by `namespace/pod`. */
export interface NodeView {
  secretEnv: ReadonlyMap<string, readonly NodeSecretEnv[]>;
}

export const EMPTY_NODE_VIEW: NodeView = { secretEnv: new Map() };

export interface CheckInput {
  snapshot: ClusterSnapshot;
  nodes: NodeView;
}

export interface Verdict {
  status: Status;
  resource: Resource;
  evidence: Evidence;
  severity?: Severity;
  title?: string;
  /** Tells apart several verdicts on one resource (the subject of a binding, a container of a pod). */
  discriminator?: string;
}

export interface ClusterCheck {
  id: string;
  cis: string | null;
  title: string;
  severity: Severity;
  /** `rbac`, `serviceaccount`, `pod`, `admission`, `network-policy`, `namespace`. */
  component: string;
  remediation: string;
  /** API kinds the judge reads: while one of them cannot be read, the row reports one `error` instead. */
  reads: readonly ResourceKind[];
  /** The row also reads the agents' container findings. */
  readsNodes?: boolean;
  /** Where the verdict deliberately differs from kube-bench's or kubescape's, and why. */
  differs?: string;
  judge(input: CheckInput): Verdict[];
}

type ApiResourceKind = (typeof API_RESOURCE_KINDS)[number];

/** A finding's resource for an API object. */
export function apiResource(kind: ApiResourceKind, meta: { name: string; namespace?: string }, extra: Record<string, string> = {}): Resource {
  return { kind, name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}), ...extra } as Resource;
}

/** The cluster as a whole (node `cluster`): where a row reports "nothing wrong found" or "cannot read". */
const CLUSTER_RESOURCE: Resource = { kind: 'node' };

export const API_SOURCE = 'kubernetes-api';

/** A stable id: same check, same object, same discriminator ⇒ same id, whatever else changes. */
export function clusterFindingId(checkId: string, resource: Resource, discriminator?: string): string {
  const r = resource as { kind: string; name?: string; namespace?: string };
  const raw = `${checkId}|${r.kind}|${r.namespace ?? ''}/${r.name ?? ''}|${discriminator ?? ''}`;
  return `${checkId}:${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
}

function toFinding(check: ClusterCheck, v: Verdict): Finding {
  return {
    id: clusterFindingId(check.id, v.resource, v.discriminator),
    checkId: check.id,
    cis: check.cis,
    status: v.status,
    severity: v.severity ?? check.severity,
    title: v.title ?? check.title,
    component: check.component,
    resource: v.resource,
    evidence: v.evidence,
    remediation: check.remediation,
  };
}

/** Why a row cannot be judged now: a kind it reads was never listed (forbidden, failing, not yet read). */
function unreadable(check: ClusterCheck, snapshot: ClusterSnapshot): Verdict | undefined {
  const missing = check.reads.filter((k) => !snapshot.kinds[k].listed && snapshot.kinds[k].status !== 'unavailable');
  if (missing.length === 0) return undefined;
  const why = missing.map((k) => `${k}: ${snapshot.kinds[k].status}${snapshot.kinds[k].detail ? ` (${snapshot.kinds[k].detail})` : ''}`);
  return {
    status: 'error',
    resource: CLUSTER_RESOURCE,
    evidence: { source: API_SOURCE, detail: `cannot read ${why.join('; ')}` },
  };
}

/** Runs every row; a row whose inputs cannot be read, or whose judge throws, is one `error` finding. */
export function evaluateChecks(checks: readonly ClusterCheck[], input: CheckInput): Finding[] {
  const findings = new Map<string, Finding>();
  for (const check of checks) {
    let verdicts: Verdict[];
    const blocked = unreadable(check, input.snapshot);
    if (blocked) {
      verdicts = [blocked];
    } else {
      try {
        verdicts = check.judge(input);
      } catch (err) {
        verdicts = [{ status: 'error', resource: CLUSTER_RESOURCE, evidence: { source: 'evaluator', detail: err instanceof Error ? err.message : String(err) } }];
      }
    }
    for (const v of verdicts) {
      const f = toFinding(check, v);
      findings.set(f.id, f);
    }
  }
  return [...findings.values()];
}

/** One `pass` on the cluster when a row found nothing wrong, saying what it looked at. */
export function nothingFound(detail: string, key?: string): Verdict {
  return { status: 'pass', resource: CLUSTER_RESOURCE, evidence: { source: API_SOURCE, ...(key ? { key } : {}), detail } };
}
