// Attack paths: facts that are each bad, and together hand an attacker something concrete.
import { isLoopbackHost } from '../../common/address.js';
import { parseGoBool } from '../../common/bool.js';
import type { StoredFinding } from '../store/types.js';
import {
  asList, byCheck, FACT_INPUTS, isHostPid, isPrivileged, mountedHostPaths, portOf, settingIs, workloadKey, workloadName,
} from './facts.js';
import { ref, type Correlation, type CorrelationRule } from './types.js';

const byNode = (facts: StoredFinding[]): Map<string, StoredFinding[]> => {
  const out = new Map<string, StoredFinding[]>();
  for (const f of facts) {
    let list = out.get(f.node);
    if (!list) out.set(f.node, (list = []));
    list.push(f);
  }
  return out;
};

const exposedPorts = (facts: StoredFinding[], match: (port: number, process: string | undefined) => boolean): StoredFinding[] =>
  facts.filter((f) => {
    const p = portOf(f.finding);
    return p !== undefined && !isLoopbackHost(p.address) && match(p.port, p.process);
  });

const endpoint = (f: StoredFinding): string => {
  const p = portOf(f.finding);
  return p ? `${p.address}:${p.port}` : f.finding.id;
};

const kubeletUnauthenticatedExec: CorrelationRule = {
  id: 'kubelet-unauthenticated-exec',
  kind: 'attack-path',
  description: 'Kubelet anonymous auth on + authorization AlwaysAllow + port 10250 on a non-loopback address: anyone on the network can exec into pods on the node.',
  evaluate(state) {
    const out: Correlation[] = [];
    for (const [node, facts] of byNode(state.facts)) {
      const anonymous = facts.filter(byCheck(FACT_INPUTS.kubeletAnonymousAuth)).filter((f) => settingIs(f.finding, parseGoBool));
      const alwaysAllow = facts.filter(byCheck(FACT_INPUTS.kubeletAuthorizationMode)).filter((f) =>
        settingIs(f.finding, (v) => (v === undefined ? undefined : asList(v).includes('AlwaysAllow'))));
      const ports = exposedPorts(facts, (port, proc) => port === FACT_INPUTS.kubeletPort || (proc === 'kubelet' && port !== 10248 && port !== 10255));
      if (!anonymous.length || !alwaysAllow.length || !ports.length) continue;
      out.push({
        id: `attack-path:kubelet-unauthenticated-exec:${node}`,
        kind: 'attack-path',
        rule: this.id,
        severity: 'critical',
        title: `Unauthenticated exec on node ${node}: the kubelet on ${ports.map(endpoint).join(', ')} accepts anonymous requests and authorizes them all`,
        nodes: [node],
        evidence: [...anonymous, ...alwaysAllow, ...ports].map(ref),
      });
    }
    return out;
  },
};

const etcdSecretsReadable: CorrelationRule = {
  id: 'etcd-secrets-readable',
  kind: 'attack-path',
  description: 'etcd listening on a non-loopback address without client certificate auth: every cluster secret is readable from the network.',
  evaluate(state) {
    const out: Correlation[] = [];
    for (const [node, facts] of byNode(state.facts)) {
      const noClientCert = facts.filter(byCheck(FACT_INPUTS.etcdClientCertAuth))
        .filter((f) => settingIs(f.finding, (v) => { const b = parseGoBool(v); return b === undefined ? undefined : !b; }));
      const ports = exposedPorts(facts, (port, proc) =>
        (FACT_INPUTS.etcdClientPorts as readonly number[]).includes(port) || (proc !== undefined && FACT_INPUTS.etcdProcess.test(proc) && port !== 2380));
      if (!noClientCert.length || !ports.length) continue;
      out.push({
        id: `attack-path:etcd-secrets-readable:${node}`,
        kind: 'attack-path',
        rule: this.id,
        severity: 'critical',
        title: `Cluster secrets readable: etcd on ${node} (${ports.map(endpoint).join(', ')}) does not require client certificates`,
        nodes: [node],
        evidence: [...noClientCert, ...ports].map(ref),
      });
    }
    return out;
  },
};

function byWorkload(facts: StoredFinding[]): Map<string, StoredFinding[]> {
  const out = new Map<string, StoredFinding[]>();
  for (const f of facts) {
    const key = workloadKey(f);
    if (!key) continue;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(f);
  }
  return out;
}

const podNodeTakeover: CorrelationRule = {
  id: 'pod-node-takeover',
  kind: 'attack-path',
  description: 'A privileged or hostPID container in a pod that also mounts the container runtime socket: whoever controls the pod controls the node.',
  evaluate(state) {
    const out: Correlation[] = [];
    for (const [key, facts] of byWorkload(state.facts)) {
      const escalation = facts.filter((f) => isPrivileged(f.finding) || isHostPid(f.finding));
      const sockets = facts.filter((f) => mountedHostPaths(f.finding).some((p) => FACT_INPUTS.runtimeSocket.test(p)));
      if (!escalation.length || !sockets.length) continue;
      const { node } = facts[0];
      const paths = [...new Set(sockets.flatMap((f) => mountedHostPaths(f.finding).filter((p) => FACT_INPUTS.runtimeSocket.test(p))))];
      const how = [...new Set(escalation.map((f) => (isPrivileged(f.finding) ? 'privileged' : 'hostPID')))].join(' + ');
      out.push({
        id: `attack-path:pod-node-takeover:${key}`,
        kind: 'attack-path',
        rule: this.id,
        severity: 'critical',
        title: `Node takeover from pod ${workloadName(facts[0])} on ${node}: ${how} with ${paths.join(', ')} mounted`,
        nodes: [node],
        evidence: [...escalation, ...sockets].map(ref),
      });
    }
    return out;
  },
};

const secretPath = (p: string): boolean => FACT_INPUTS.secretPaths.some((re) => re.test(p));

function filePath(f: StoredFinding): string | undefined {
  const r = f.finding.resource;
  return r.kind === 'file' || r.kind === 'certificate' ? r.path : undefined;
}

const hostRootSecrets: CorrelationRule = {
  id: 'host-root-secrets',
  kind: 'attack-path',
  description: 'A pod with a hostPath of / on a node that holds etcd data or control-plane private keys: the pod reads the cluster\'s secrets.',
  evaluate(state) {
    const out: Correlation[] = [];
    const nodes = byNode(state.facts);
    for (const [key, facts] of byWorkload(state.facts)) {
      const rootMounts = facts.filter((f) => mountedHostPaths(f.finding).includes('/'));
      if (!rootMounts.length) continue;
      const { node } = facts[0];
      const secrets = (nodes.get(node) ?? []).filter((f) => { const p = filePath(f); return p !== undefined && secretPath(p); });
      if (!secrets.length) continue;
      const paths = [...new Set(secrets.map(filePath))].slice(0, 3);
      out.push({
        id: `attack-path:host-root-secrets:${key}`,
        kind: 'attack-path',
        rule: this.id,
        severity: 'critical',
        title: `Pod ${workloadName(facts[0])} on ${node} mounts the host's / and the node holds cluster secrets (${paths.join(', ')})`,
        nodes: [node],
        evidence: [...rootMounts, ...secrets].map(ref),
      });
    }
    return out;
  },
};

export const ATTACK_PATH_RULES: CorrelationRule[] = [kubeletUnauthenticatedExec, etcdSecretsReadable, podNodeTakeover, hostRootSecrets];
