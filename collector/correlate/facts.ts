// Every input the correlation rules read from findings, in one place, so it is easy to align with the agent's
// checks. Matching is deliberately loose (resource kind, port number, address, PSS id, path patterns): check ids
// may be renamed or added without silently disabling a rule.
import { isLoopbackHost, isWildcardHost } from '../../common/address.js';
import { parseGoBool } from '../../common/bool.js';
import { isRecord } from '../../common/json.js';
import type { Finding } from '../../proto/report.js';
import type { FactSelector, StoredFinding } from '../store/types.js';

export const FACT_INPUTS = {
  /** Kubelet settings (CIS 4.2.1 anonymous auth, boolean; 4.2.2 authorization mode, string or list). */
  kubeletAnonymousAuth: ['cis-4.2.1'],
  kubeletAuthorizationMode: ['cis-4.2.2'],
  /** etcd --client-cert-auth (CIS 2.2, boolean; unset means off). */
  etcdClientCertAuth: ['cis-2.2'],
  /** Listening sockets: any finding whose resource is a port (check ids `port-*`). */
  portResourceKind: 'port',
  kubeletPort: 10250,
  etcdClientPorts: [2379],
  etcdProcess: /(^|\/)etcd$/,
  /** Containers: privileged (PSS `privileged`), host PID (check or PSS hostNamespaces with a hostPID key). */
  privilegedPss: ['privileged'],
  hostPidCheckIds: ['container-host-pid'],
  hostNamespacesPss: ['hostNamespaces'],
  /** Host paths a container mounts: PSS hostPathVolumes/restrictedVolumes and the sensitive-mount check. */
  hostPathPss: ['hostPathVolumes', 'restrictedVolumes'],
  hostPathCheckIds: ['container-host-path', 'container-sensitive-host-mount'],
  runtimeSocket: /(^|\/)(docker|containerd|crio|cri-dockerd|dockershim|podman)\.sock$|^\/(var\/)?run\/(containerd|docker|crio)\/?$/,
  /** Secrets on disk a `/` hostPath exposes: etcd data and control-plane private keys. */
  secretPaths: [/^\/var\/lib\/etcd(\/|$)/, /^\/etc\/kubernetes\/pki\/.*\.key$/, /^\/etc\/kubernetes\/pki\/etcd(\/|$)/],
  /** Evidence keys whose values name other nodes (URLs or host:port lists). */
  referenceKeys: ['--etcd-servers', 'etcd-servers', '--initial-cluster', 'initial-cluster', 'ETCD_INITIAL_CLUSTER',
    '--apiserver-advertise-address', '--advertise-address', 'server', 'clusters[0].cluster.server'],
  /** Declared vs kernel (its evidence carries CapEff and the namespaces shared with the host, pass or fail). */
  kernelCheckIds: ['container-kernel-drift'],
  /** Host ports of a container (CRI), and secret-looking environment variable names (values are never reported). */
  hostPortCheckIds: ['container-host-ports'],
  secretEnvCheckIds: ['container-secret-env'],
  /** Resource kinds whose findings are node settings comparable across nodes (drift). */
  driftResourceKinds: ['component', 'node', 'kernel', 'file', 'certificate'],
} as const;

/** The one store query for rule inputs: every open finding any rule may read in full. */
export const FACT_SELECTOR: FactSelector = [
  { checkIds: [...FACT_INPUTS.kubeletAnonymousAuth, ...FACT_INPUTS.kubeletAuthorizationMode, ...FACT_INPUTS.etcdClientCertAuth] },
  { resourceKinds: [FACT_INPUTS.portResourceKind] },
  // Passing container findings say "not privileged", "no hostPath": no rule needs them.
  { resourceKinds: ['container'], excludeStatus: ['pass'],
    pss: [...FACT_INPUTS.privilegedPss, ...FACT_INPUTS.hostNamespacesPss, ...FACT_INPUTS.hostPathPss] },
  { resourceKinds: ['container'], excludeStatus: ['pass'], checkIds: [...FACT_INPUTS.hostPidCheckIds, ...FACT_INPUTS.hostPathCheckIds] },
  { resourceKinds: ['container'], checkIds: [...FACT_INPUTS.kernelCheckIds] },
  { resourceKinds: ['container'], excludeStatus: ['pass'], checkIds: [...FACT_INPUTS.hostPortCheckIds, ...FACT_INPUTS.secretEnvCheckIds] },
  { resourceKinds: ['file', 'certificate'] },
  { evidenceKeys: [...FACT_INPUTS.referenceKeys] },
];

export function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(asList);
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}

export const byCheck = (ids: readonly string[]) => (f: StoredFinding): boolean => ids.includes(f.finding.checkId);

/** A bad setting: the check failed, or its value says so when the status is ambiguous. */
export function settingIs(f: Finding, predicate: (value: unknown) => boolean | undefined): boolean {
  const verdict = predicate(f.evidence.value);
  return verdict ?? f.status === 'fail';
}

type PortResource = Extract<Finding['resource'], { kind: 'port' }>;

export function portOf(f: Finding): PortResource | undefined {
  return f.resource.kind === 'port' ? f.resource : undefined;
}

/** The pod (or container when no pod is known) a container finding is about, scoped by node. */
export function workloadKey(f: StoredFinding): string | undefined {
  const r = f.finding.resource;
  if (r.kind !== 'container') return undefined;
  return r.namespace && r.pod ? `${f.node}|${r.namespace}/${r.pod}` : `${f.node}|${r.id}`;
}

export function workloadName(f: StoredFinding): string {
  const r = f.finding.resource;
  if (r.kind !== 'container') return f.node;
  return r.namespace && r.pod ? `${r.namespace}/${r.pod}` : r.id;
}

/** Host paths in an evidence value: a path, a list of them (`hostPath:` prefixes allowed), or mount objects `{ source }`. */
function hostPathsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(hostPathsIn);
  if (isRecord(value)) return hostPathsIn(value.source);
  return asList(value).map((p) => p.replace(/^hostPath:/, '')).filter((p) => p.startsWith('/'));
}

/** Host paths named by a failing hostPath finding (not `evidence.path`: that is where the spec was read). */
export function mountedHostPaths(f: Finding): string[] {
  const isMount = (f.pss !== undefined && (FACT_INPUTS.hostPathPss as readonly string[]).includes(f.pss))
    || (FACT_INPUTS.hostPathCheckIds as readonly string[]).includes(f.checkId);
  if (!isMount || f.status === 'pass') return [];
  return hostPathsIn(f.evidence.value);
}

export function isPrivileged(f: Finding): boolean {
  return f.pss !== undefined && (FACT_INPUTS.privilegedPss as readonly string[]).includes(f.pss)
    && settingIs(f, parseGoBool);
}

export function isHostPid(f: Finding): boolean {
  const byId = (FACT_INPUTS.hostPidCheckIds as readonly string[]).includes(f.checkId);
  const byPss = f.pss !== undefined && (FACT_INPUTS.hostNamespacesPss as readonly string[]).includes(f.pss)
    && /hostpid/i.test(`${f.evidence.key ?? ''} ${f.title}`);
  return (byId || byPss) && settingIs(f, parseGoBool);
}

/** Host names and IPs in a value like `https://10.0.0.5:2379,https://cp-2:2379` or `cp-1=https://cp-1:2380`. */
export function referencedHosts(value: unknown): string[] {
  const hosts = new Set<string>();
  for (const item of asList(value)) {
    const target = item.includes('=') ? item.slice(item.indexOf('=') + 1) : item;
    let host: string | undefined;
    try {
      host = new URL(target.includes('://') ? target : `tcp://${target}`).hostname;
    } catch {
      host = undefined;
    }
    if (host) hosts.add(host.replace(/^\[|\]$/g, '').toLowerCase());
  }
  return [...hosts].filter((h) => !isLoopbackHost(h) && !isWildcardHost(h));
}
