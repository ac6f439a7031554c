// Attack paths that join what the agents saw on the nodes (kernel-verified privileges, listening sockets,
// environment variable names) with what the Kubernetes API says (the pod's ServiceAccount and what RBAC lets it
// do, the namespace's NetworkPolicies, who may read its Secrets). Without a cluster snapshot (the collector does
// not read the API) these rules find nothing. Their evidence points at the agents' findings and at the cluster's
// own findings (node `cluster`) that report the same grants, namespaces and pods.
import { isLoopbackHost } from '../../common/address.js';
import { parseGoBool } from '../../common/bool.js';
import { isRecord, stringsOf } from '../../common/json.js';
import type { Finding } from '../../proto/report.js';
import { apiResource, CLUSTER_NODE, clusterFindingId } from '../cluster/checks/catalogue.js';
import { namespacesWithoutNetworkPolicy } from '../cluster/checks/namespaces.js';
import { grantFindingId, isBuiltInGrant } from '../cluster/checks/rbac.js';
import { mountsToken, serviceAccountGrants } from '../cluster/checks/workloads.js';
import type { ClusterSnapshot } from '../cluster/model.js';
import type { PodObject } from '../cluster/objects.js';
import { CAPABILITIES, capabilityReach, type Capability } from '../cluster/rbac/capabilities.js';
import { AUTHENTICATED, allGrants, grantReaches, isBroadGroup, refText, subjectText, type Grant } from '../cluster/rbac/resolve.js';
import type { StoredFinding } from '../store/types.js';
import { FACT_INPUTS, isHostPid, isPrivileged, portOf, settingIs } from './facts.js';
import { ref, type Correlation, type CorrelationRule, type EvidenceRef } from './types.js';

/** A finding of the cluster's own (node `cluster`), by id; its status when the rule knows what the row judged. */
const clusterRef = (checkId: string, findingId: string, known: { status?: 'fail'; value?: string } = {}): EvidenceRef =>
  ({ node: CLUSTER_NODE, findingId, checkId, ...known });

const grantText = (g: Grant): string => `${subjectText(g.subject)}: ${refText(g.binding)} → ${refText(g.role)}`;

const has = (ids: readonly string[], f: Finding): boolean => ids.includes(f.checkId);

/** `ns/pod` of an agent finding on a container, or on a socket one owns. */
function podOf(f: Finding): string | undefined {
  const r = f.resource;
  if (r.kind === 'container') return r.namespace && r.pod ? `${r.namespace}/${r.pod}` : undefined;
  if (r.kind === 'port' && typeof r.container === 'string') {
    const [ns, pod] = r.container.split('/');
    return ns && pod ? `${ns}/${pod}` : undefined;
  }
  return undefined;
}

const containerOf = (f: Finding): string | undefined => {
  const r = f.resource;
  if (r.kind === 'container') return r.container;
  return r.kind === 'port' && typeof r.container === 'string' ? r.container.split('/')[2] : undefined;
};

interface PodFacts { node: string; pod: PodObject; facts: StoredFinding[] }

/** Agent findings grouped by the API's pod they are about (on the node the API schedules it to). */
function byApiPod(facts: readonly StoredFinding[], snapshot: ClusterSnapshot): Map<string, PodFacts> {
  const out = new Map<string, PodFacts>();
  for (const f of facts) {
    const key = podOf(f.finding);
    const pod = key ? snapshot.objects.Pod.get(key) : undefined;
    if (!pod || (pod.nodeName !== undefined && pod.nodeName !== f.node)) continue;
    const id = `${f.node}|${key}`;
    let entry = out.get(id);
    if (!entry) out.set(id, (entry = { node: f.node, pod, facts: [] }));
    entry.facts.push(f);
  }
  return out;
}

const podName = (p: PodObject): string => `${p.metadata.namespace}/${p.metadata.name}`;

// ---- a privileged container whose ServiceAccount can escalate -----------------------------------------

const HOST_NAMESPACE: Record<string, string> = { 'container-host-pid': 'pid', 'container-host-network': 'net', 'container-host-ipc': 'ipc' };

/** What the kernel says of a container's first process (the agent's declared-vs-kernel finding). */
function kernelOf(f: Finding): { capEff: string[]; sharedWithHost: string[] } | undefined {
  if (!has(FACT_INPUTS.kernelCheckIds, f) || !isRecord(f.evidence.value)) return undefined;
  return { capEff: stringsOf(f.evidence.value.capEff), sharedWithHost: stringsOf(f.evidence.value.sharedWithHost) };
}

/** Declared privilege the kernel confirms: privileged with CAP_SYS_ADMIN in CapEff, or a host namespace the process shares. */
function verifiedPrivilege(facts: readonly StoredFinding[]): { how: string | undefined; evidence: StoredFinding[] } {
  let privileged = false;
  const namespaces = new Set<string>();
  const evidence = new Set<StoredFinding>();
  for (const k of facts) {
    const kernel = kernelOf(k.finding);
    if (!kernel) continue;
    for (const f of facts) {
      if (f === k || containerOf(f.finding) !== containerOf(k.finding)) continue;
      const hostNs = HOST_NAMESPACE[f.finding.checkId] ?? (isHostPid(f.finding) ? 'pid' : undefined);
      if (isPrivileged(f.finding) && kernel.capEff.includes('SYS_ADMIN')) privileged = true;
      else if (hostNs && settingIs(f.finding, parseGoBool) && kernel.sharedWithHost.includes(hostNs)) namespaces.add(hostNs);
      else continue;
      evidence.add(f).add(k);
    }
  }
  const ns = [...namespaces].sort();
  const inHost = ns.length ? `in the host's ${ns.join(', ')} namespace${ns.length > 1 ? 's' : ''}` : '';
  const how = privileged ? `privileged${inHost ? ` and ${inHost}` : ''}` : inHost || undefined;
  return { how, evidence: [...evidence] };
}

/** What turns a ServiceAccount token into more than the pod, and the CIS row that reports each grant. */
const ESCALATIONS: Array<{ capability: Capability; checkId: string; clusterWideOnly?: boolean }> = [
  { capability: 'create-pods', checkId: 'cis-5.1.4' },
  { capability: 'bind', checkId: 'cis-5.1.8' },
  { capability: 'escalate', checkId: 'cis-5.1.8' },
  { capability: 'impersonate', checkId: 'cis-5.1.8' },
  { capability: 'read-secrets', checkId: 'cis-5.1.2', clusterWideOnly: true },
];

function escalationsOf(grants: readonly Grant[]): Array<{ capability: Capability; checkId: string; grant: Grant }> {
  const out: Array<{ capability: Capability; checkId: string; grant: Grant }> = [];
  for (const grant of grants) {
    for (const e of ESCALATIONS) {
      if (e.clusterWideOnly && grant.scope !== '*') continue;
      if (capabilityReach(grant.rule, e.capability) === 'all') out.push({ capability: e.capability, checkId: e.checkId, grant });
    }
  }
  return out;
}

const privilegedPodEscalates: CorrelationRule = {
  id: 'privileged-pod-rbac-escalation',
  kind: 'attack-path',
  description: 'A container the kernel confirms privileged or in a host namespace, in a pod whose mounted ServiceAccount token can create pods, bind or escalate roles, impersonate, or read Secrets cluster-wide: root on the node and reach across the cluster from one pod.',
  evaluate(state) {
    const snapshot = state.cluster;
    if (!snapshot) return [];
    const out: Correlation[] = [];
    for (const [key, { node, pod, facts }] of byApiPod(state.facts, snapshot)) {
      const { how, evidence } = verifiedPrivilege(facts);
      if (!how || !mountsToken(pod, snapshot)) continue;
      const escalations = escalationsOf(serviceAccountGrants(snapshot, pod.metadata.namespace!, pod.serviceAccountName));
      if (escalations.length === 0) continue;
      const what = [...new Set(escalations.map((e) => (e.capability === 'read-secrets' ? 'read Secrets cluster-wide' : CAPABILITIES[e.capability].text)))];
      const grants = new Map(escalations.map((e) => [grantFindingId(e.checkId, e.grant), e]));
      out.push({
        id: `attack-path:${this.id}:${key}`,
        kind: 'attack-path',
        rule: this.id,
        severity: 'critical',
        title: `Pod ${podName(pod)} on ${node} runs ${how} (kernel-verified) with the token of ServiceAccount ${pod.serviceAccountName}, which can ${what.join('; ')}`,
        nodes: [node],
        evidence: [
          ...evidence.map(ref),
          // The row fails a mounted token that carries permissions, and every grant reaching all objects.
          clusterRef('cis-5.1.6', clusterFindingId('cis-5.1.6', apiResource('pod', pod.metadata)), { status: 'fail', value: `ServiceAccount ${pod.serviceAccountName}` }),
          ...[...grants].map(([id, e]) => clusterRef(e.checkId, id, { status: 'fail', value: grantText(e.grant) })),
        ],
        detail: [...new Set(escalations.map((e) => `${subjectText(e.grant.subject)} via ${refText(e.grant.binding)} → ${refText(e.grant.role)}`))].join('; '),
      });
    }
    return out;
  },
};

// ---- a node-exposed port of a pod whose namespace has no NetworkPolicy ---------------------------------

/** The node addresses a finding says the pod listens on: a socket of a hostNetwork pod, or the hostPorts the runtime maps. */
function exposure(f: StoredFinding, pod: PodObject): string[] {
  if (has(FACT_INPUTS.hostPortCheckIds, f.finding)) {
    const value = f.finding.evidence.value;
    return f.finding.status === 'fail' && Array.isArray(value) ? value.filter((v) => typeof v === 'number').map((v) => `hostPort ${v}`) : [];
  }
  const p = portOf(f.finding);
  return p && pod.hostNetwork && !isLoopbackHost(p.address) ? [`${p.address}:${p.port}`] : [];
}

const exposedPortNoNetworkPolicy: CorrelationRule = {
  id: 'exposed-pod-port-no-network-policy',
  kind: 'attack-path',
  description: 'A pod listening on a node address (a hostPort, or a socket of a hostNetwork pod on a non-loopback address) in a namespace without any NetworkPolicy: reachable by anything that reaches the node.',
  evaluate(state) {
    const snapshot = state.cluster;
    if (!snapshot) return [];
    const open = namespacesWithoutNetworkPolicy(snapshot);
    const out: Correlation[] = [];
    for (const [key, { node, pod, facts }] of byApiPod(state.facts, snapshot)) {
      const ns = pod.metadata.namespace!;
      if (!open.has(ns)) continue;
      const exposed = facts.filter((f) => exposure(f, pod).length > 0);
      if (exposed.length === 0) continue;
      const where = [...new Set(exposed.flatMap((f) => exposure(f, pod)))];
      out.push({
        id: `attack-path:${this.id}:${key}`,
        kind: 'attack-path',
        rule: this.id,
        severity: 'high',
        title: `Pod ${podName(pod)} listens on node ${node} (${where.join(', ')}) and namespace ${ns} has no NetworkPolicy`,
        nodes: [node],
        evidence: [...exposed.map(ref), clusterRef('cis-5.3.2', clusterFindingId('cis-5.3.2', apiResource('namespace', { name: ns })), { status: 'fail', value: `namespace ${ns}: none` })],
        ...(pod.hostNetwork ? { detail: 'a hostNetwork pod: most CNIs apply no NetworkPolicy to it at all; restrict the port on the node' } : {}),
      });
    }
    return out;
  },
};

// ---- a secret in a container's environment, in a namespace whose Secrets many may read ----------------

/** More distinct subjects than this (or a group of everyone, or of every ServiceAccount) reading a namespace's Secrets is "many". */
const MANY_READERS = 3;

/** Who may read every Secret in a namespace (grants the API server makes its own components aside), by subject. */
function secretReaders(snapshot: ClusterSnapshot, ns: string): Map<string, Grant[]> {
  const out = new Map<string, Grant[]>();
  for (const g of allGrants(snapshot)) {
    if (!grantReaches(g, ns) || capabilityReach(g.rule, 'read-secrets') !== 'all' || isBuiltInGrant(snapshot, g)) continue;
    const who = subjectText(g.subject);
    out.set(who, [...(out.get(who) ?? []), g]);
  }
  return out;
}

const secretEnvBroadReaders: CorrelationRule = {
  id: 'secret-env-broad-secret-readers',
  kind: 'attack-path',
  description: `A container that runs with a secret-looking environment variable (as the agent saw it on the node) in a namespace where more than ${MANY_READERS} subjects, or a whole group such as system:authenticated, may read Secrets.`,
  evaluate(state) {
    const snapshot = state.cluster;
    if (!snapshot) return [];
    const out: Correlation[] = [];
    const readersByNs = new Map<string, Map<string, Grant[]>>();
    const withEnv = state.facts.filter((f) => has(FACT_INPUTS.secretEnvCheckIds, f.finding) && f.finding.status !== 'pass');
    for (const [key, { node, pod, facts }] of byApiPod(withEnv, snapshot)) {
      const ns = pod.metadata.namespace!;
      let readers = readersByNs.get(ns);
      if (!readers) readersByNs.set(ns, (readers = secretReaders(snapshot, ns)));
      const grants = [...readers.values()].flat();
      const broad = grants.filter((g) => isBroadGroup(g.subject));
      if (readers.size <= MANY_READERS && broad.length === 0) continue;
      const names = [...new Set(facts.flatMap((f) => stringsOf(f.finding.evidence.value)))];
      const everyone = broad.some((g) => g.subject.name === AUTHENTICATED);
      const clusterRefs = new Map<string, EvidenceRef>();
      for (const f of facts) {
        const container = containerOf(f.finding);
        if (!container) continue;
        const id = clusterFindingId('cis-5.4.1', apiResource('pod', pod.metadata, { container }), container);
        clusterRefs.set(id, clusterRef('cis-5.4.1', id));
      }
      for (const g of grants) {
        const id = grantFindingId('cis-5.1.2', g);
        clusterRefs.set(id, clusterRef('cis-5.1.2', id, { status: 'fail', value: grantText(g) }));
      }
      out.push({
        id: `attack-path:${this.id}:${key}`,
        kind: 'attack-path',
        rule: this.id,
        severity: everyone ? 'critical' : 'high',
        title: `Pod ${podName(pod)} on ${node} runs with ${names.join(', ')} in its environment, and ${broad.length ? subjectText(broad[0].subject) : `${readers.size} subjects`} may read the Secrets of ${ns}`,
        nodes: [node],
        evidence: [...facts.map(ref), ...[...clusterRefs.values()].slice(0, 12)],
        detail: `may read Secrets in ${ns}: ${[...readers.keys()].slice(0, 10).join('; ')}${readers.size > 10 ? ` and ${readers.size - 10} more` : ''}`,
      });
    }
    return out;
  },
};

export const CLUSTER_PATH_RULES: CorrelationRule[] = [privilegedPodEscalates, exposedPortNoNetworkPolicy, secretEnvBroadReaders];
