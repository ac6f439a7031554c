// Shared parts of the container checks: which containers are judged, the resource they are reported
// on, and a factory that turns a per-container judgement into verdicts (or one skip when there is
// nothing to judge).
import type { Evidence, Resource, Severity } from '../../../../proto/report.js';
import { fact } from '../../../facts/inputs.js';
import type { Check, CheckMeta, Judgement, Verdict } from '../../check.js';
import type { Snapshot } from '../../../facts/snapshot.js';
import type { ContainerFact, DeclaredFact } from '../../../facts/containers.js';

export function containerResource(c: ContainerFact): Resource {
  const r: Resource = { kind: 'container', id: c.id };
  if (c.namespace !== undefined) r.namespace = c.namespace;
  if (c.pod !== undefined) r.pod = c.pod;
  if (c.container !== undefined) r.container = c.container;
  if (c.image !== undefined) r.image = c.image;
  if (c.pid !== undefined) r.pid = c.pid;
  return r;
}

/** `oci-spec+cri`, `podspec`, ...: where the declared facts came from. */
function declaredSource(d: DeclaredFact): string {
  return d.sources.map((s) => (s === 'oci' ? 'oci-spec' : s)).join('+') || 'runtime';
}

/** Kubernetes' own fields (CRI config or PodSpec) are known, not derived from an OCI spec. */
export const isLiteral = (d: DeclaredFact): boolean => d.sources.includes('cri') || d.sources.includes('podspec');
export const isManifest = (d: DeclaredFact): boolean => d.sources.includes('podspec');

function workloads(s: Snapshot): ContainerFact[] {
  return (s.containers?.items ?? []).filter((c) => c.type === 'container');
}

/** One skip on the node when no runtime was found or no container runs; undefined when there is work. */
function nothingToJudge(s: Snapshot): Verdict | undefined {
  const { sources, searched } = s.containers ?? { sources: [], searched: [] };
  if (sources.length === 0) {
    return {
      status: 'skip',
      resource: { kind: 'node' },
      evidence: {
        source: 'discovery',
        detail: `no container runtime found (looked for ${searched.join(', ') || 'containerd, CRI-O and CRI sockets'})`,
      },
    };
  }
  if (workloads(s).length === 0) {
    return {
      status: 'skip',
      resource: { kind: 'node' },
      evidence: { source: 'discovery', detail: `no running containers in ${sources.map((x) => x.path).join(', ')}` },
    };
  }
  return undefined;
}

function toVerdict(c: ContainerFact, j: Judgement): Verdict {
  const v: Verdict = { status: j.status, resource: containerResource(c), evidence: j.evidence };
  if (j.severity) v.severity = j.severity;
  if (j.title) v.title = j.title;
  if (j.discriminator) v.discriminator = j.discriminator;
  return v;
}

/** A check judging each workload container's declared facts (containers whose spec could not be read are left to container-gather-error). */
export function containerCheck(spec: Omit<CheckMeta, 'component'> & {
  judge: (d: DeclaredFact, c: ContainerFact, s: Snapshot) => Judgement | Judgement[];
}): Check {
  const { judge, ...meta } = spec;
  return {
    ...meta,
    component: 'container',
    reads: [fact('containers')],
    evaluate(s) {
      const none = nothingToJudge(s);
      if (none) return [none];
      const verdicts: Verdict[] = [];
      for (const c of workloads(s)) {
        if (!c.declared) continue;
        const js = judge(c.declared, c, s);
        for (const j of Array.isArray(js) ? js : [js]) verdicts.push(toVerdict(c, j));
      }
      return verdicts;
    },
  };
}

/** Evidence on a container's declared facts, naming the spec file when one was read. */
export function ev(c: ContainerFact, key: string, value: unknown, expected: string, detail?: string): Evidence {
  const e: Evidence = { source: c.declared ? declaredSource(c.declared) : 'runtime', key, value, expected };
  if (c.specPath) e.path = c.specPath;
  if (detail) e.detail = detail;
  return e;
}

export const pass = (evidence: Evidence): Judgement => ({ status: 'pass', evidence });
export const fail = (evidence: Evidence, severity?: Severity): Judgement =>
  severity ? { status: 'fail', evidence, severity } : { status: 'fail', evidence };
