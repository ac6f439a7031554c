// The attack paths that join the agents' findings with the API's picture, on findings shaped as the agent writes
// them (the real containerd run is in test/integration/cluster/containerd.test.ts).
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { CLUSTER_PATH_RULES } from '../../../collector/correlate/cluster-paths.js';
import { correlate } from '../../../collector/correlate/rules.js';
import type { ClusterState } from '../../../collector/correlate/types.js';
import type { StoredFinding } from '../../../collector/store/types.js';
import { finding } from '../collector/helpers.js';
import {
  clusterRole, clusterRoleBinding, group, namespace, networkPolicy, pod, roleBinding, sa, serviceAccount, snapshot, type RawObjects,
} from './fixtures.js';

const container = (ns: string, podName: string, c: string) => ({ kind: 'container' as const, id: `${podName}-${c}-id`, namespace: ns, pod: podName, container: c });

function stored(node: string, f: Finding): StoredFinding {
  return { node, finding: f, firstSeen: 0, lastSeen: 0, changedAt: 0, resolvedAt: null };
}

const privileged = (ns: string, p: string) => finding({ checkId: 'container-privileged', pss: 'privileged', status: 'fail', value: true,
  component: 'container', resource: container(ns, p, 'main') });
const kernel = (ns: string, p: string, capEff: string[], sharedWithHost: string[]) => finding({ checkId: 'container-kernel-drift', status: 'pass',
  component: 'container', resource: container(ns, p, 'main'), value: { capEff, noNewPrivs: false, seccomp: 0, uid: 0, sharedWithHost } });
const hostPid = (ns: string, p: string) => finding({ checkId: 'container-host-pid', pss: 'hostNamespaces', status: 'fail', value: true,
  component: 'container', resource: container(ns, p, 'main'), evidence: { source: 'oci-spec', key: 'spec.hostPID', value: true } });

function state(facts: StoredFinding[], objects: RawObjects): ClusterState {
  return { now: 0, silentAfterMs: 1, nodes: [], facts, settings: [], checkTitles: new Map(), cluster: snapshot(objects) };
}

const run = (s: ClusterState) => correlate(s, CLUSTER_PATH_RULES);

const RBAC: RawObjects = {
  ClusterRole: [clusterRole('pod-maker', [{ verbs: ['create'], resources: ['pods'] }])],
  ClusterRoleBinding: [clusterRoleBinding('deployer', 'pod-maker', [sa('ops', 'deployer')])],
};

describe('privileged pod whose ServiceAccount can escalate', () => {
  const objects: RawObjects = { ...RBAC, Namespace: [namespace('ops')], ServiceAccount: [serviceAccount('ops', 'deployer')],
    Pod: [pod('ops', 'agent', { serviceAccountName: 'deployer', nodeName: 'w1' })] };

  it('joins kernel-verified privilege with the pod\'s ServiceAccount grants', () => {
    const facts = [stored('w1', privileged('ops', 'agent')), stored('w1', kernel('ops', 'agent', ['SYS_ADMIN', 'NET_ADMIN'], ['pid']))];
    const [c, ...rest] = run(state(facts, objects));
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ kind: 'attack-path', rule: 'privileged-pod-rbac-escalation', severity: 'critical', nodes: ['w1'],
      id: 'attack-path:privileged-pod-rbac-escalation:w1|ops/agent' });
    expect(c.title).toBe('Pod ops/agent on w1 runs privileged (kernel-verified) with the token of ServiceAccount deployer, which can create pods (and run them as any ServiceAccount of the namespace)');
    expect(c.evidence.map((e) => [e.node, e.checkId])).toEqual([
      ['w1', 'container-privileged'], ['w1', 'container-kernel-drift'], ['cluster', 'cis-5.1.6'], ['cluster', 'cis-5.1.4'],
    ]);
    expect(c.detail).toBe('ServiceAccount ops/deployer via ClusterRoleBinding deployer → ClusterRole pod-maker');
  });

  it('needs the kernel to confirm it: privileged declared, but no CAP_SYS_ADMIN in CapEff, is no path', () => {
    const facts = [stored('w1', privileged('ops', 'agent')), stored('w1', kernel('ops', 'agent', ['NET_BIND_SERVICE'], []))];
    expect(run(state(facts, objects))).toEqual([]);
    expect(run(state([stored('w1', privileged('ops', 'agent'))], objects))).toEqual([]);
  });

  it('counts a host PID namespace the process really shares', () => {
    const facts = [stored('w1', hostPid('ops', 'agent')), stored('w1', kernel('ops', 'agent', [], ['pid', 'uts']))];
    expect(run(state(facts, objects))[0].title).toContain("runs in the host's pid namespace (kernel-verified)");
  });

  it('needs a mounted token with an escalating grant, on the node the API schedules the pod to', () => {
    const facts = [stored('w1', privileged('ops', 'agent')), stored('w1', kernel('ops', 'agent', ['SYS_ADMIN'], []))];
    const noToken = { ...objects, Pod: [pod('ops', 'agent', { serviceAccountName: 'deployer', nodeName: 'w1', token: false })] };
    expect(run(state(facts, noToken))).toEqual([]);
    const otherNode = { ...objects, Pod: [pod('ops', 'agent', { serviceAccountName: 'deployer', nodeName: 'w2' })] };
    expect(run(state(facts, otherNode))).toEqual([]);
    const namespacedSecrets = { ...objects, ClusterRole: [clusterRole('pod-maker', [{ verbs: ['get'], resources: ['secrets'] }])] };
    expect(run(state(facts, namespacedSecrets))[0].title).toContain('read Secrets cluster-wide');
    const readOnly = { ...objects, ClusterRole: [clusterRole('pod-maker', [{ verbs: ['get'], resources: ['pods'] }])] };
    expect(run(state(facts, readOnly))).toEqual([]);
  });

  it('finds nothing without the API\'s picture', () => {
    const facts = [stored('w1', privileged('ops', 'agent')), stored('w1', kernel('ops', 'agent', ['SYS_ADMIN'], []))];
    expect(run({ ...state(facts, objects), cluster: undefined })).toEqual([]);
  });
});

describe('node-exposed port in a namespace without NetworkPolicy', () => {
  const port = finding({ checkId: 'port-inventory', status: 'pass', severity: 'info', component: 'node',
    resource: { kind: 'port', protocol: 'tcp', address: '0.0.0.0', port: 9100, process: 'exporter', container: 'mon/exporter/main' } });
  const hostPorts = finding({ checkId: 'container-host-ports', pss: 'hostPorts', status: 'fail', component: 'container',
    resource: container('web', 'ingress', 'main'), value: [80, 443] });
  const objects: RawObjects = {
    Namespace: [namespace('mon'), namespace('web'), namespace('safe')],
    NetworkPolicy: [networkPolicy('safe', 'deny')],
    Pod: [pod('mon', 'exporter', { nodeName: 'w1', hostNetwork: true }), pod('web', 'ingress', { nodeName: 'w1' }), pod('safe', 'exporter', { nodeName: 'w1', hostNetwork: true })],
  };

  it('joins a hostNetwork pod\'s listener and a pod\'s hostPorts with the namespace\'s missing NetworkPolicy', () => {
    const out = run(state([stored('w1', port), stored('w1', hostPorts)], objects));
    expect(out.map((c) => [c.rule, c.title])).toEqual([
      ['exposed-pod-port-no-network-policy', 'Pod mon/exporter listens on node w1 (0.0.0.0:9100) and namespace mon has no NetworkPolicy'],
      ['exposed-pod-port-no-network-policy', 'Pod web/ingress listens on node w1 (hostPort 80, hostPort 443) and namespace web has no NetworkPolicy'],
    ]);
    expect(out[0].detail).toContain('hostNetwork');
    expect(out[1].evidence.map((e) => e.checkId)).toEqual(['container-host-ports', 'cis-5.3.2']);
  });

  it('ignores loopback listeners, pods with their own network namespace, and namespaces with a policy', () => {
    const loopback = { ...port, resource: { ...port.resource, address: '127.0.0.1' } } as Finding;
    const safe = { ...port, resource: { ...port.resource, container: 'safe/exporter/main' } } as Finding;
    const ownNetns = { ...objects, Pod: [pod('mon', 'exporter', { nodeName: 'w1' })] };
    expect(run(state([stored('w1', loopback), stored('w1', safe)], objects))).toEqual([]);
    expect(run(state([stored('w1', port)], ownNetns))).toEqual([]);
  });
});

describe('secret in the environment where many may read Secrets', () => {
  const env = finding({ checkId: 'container-secret-env', cis: '5.4.1', status: 'fail', severity: 'high', component: 'container',
    resource: container('shop', 'api', 'main'), value: ['DB_PASSWORD'] });
  const reader = clusterRole('secret-reader', [{ verbs: ['get', 'list'], resources: ['secrets'] }]);
  const base: RawObjects = { Namespace: [namespace('shop')], Pod: [pod('shop', 'api', { nodeName: 'w1' })], ClusterRole: [reader] };

  it('fires for a group of every ServiceAccount of the namespace', () => {
    const out = run(state([stored('w1', env)], { ...base,
      RoleBinding: [roleBinding('shop', 'all-sas', { kind: 'ClusterRole', name: 'secret-reader' }, [group('system:serviceaccounts:shop')])] }));
    expect(out.map((c) => [c.rule, c.severity])).toEqual([['secret-env-broad-secret-readers', 'high']]);
    expect(out[0].title).toBe('Pod shop/api on w1 runs with DB_PASSWORD in its environment, and Group system:serviceaccounts:shop (every ServiceAccount in shop) may read the Secrets of shop');
    expect(out[0].evidence.map((e) => e.checkId)).toEqual(['container-secret-env', 'cis-5.4.1', 'cis-5.1.2']);
  });

  it('counts readers across cluster-wide and namespaced bindings, and needs more than three', () => {
    const subjects = ['a', 'b', 'c'].map((n) => sa('shop', n));
    const three: RawObjects = { ...base, RoleBinding: [roleBinding('shop', 'three', { kind: 'ClusterRole', name: 'secret-reader' }, subjects)] };
    expect(run(state([stored('w1', env)], three))).toEqual([]);
    const four: RawObjects = { ...three, ClusterRoleBinding: [clusterRoleBinding('global', 'secret-reader', [sa('ops', 'backup')])] };
    expect(run(state([stored('w1', env)], four))[0].title).toContain('4 subjects may read the Secrets of shop');
    const elsewhere: RawObjects = { ...three, RoleBinding: [...three.RoleBinding!, roleBinding('other', 'x', { kind: 'ClusterRole', name: 'secret-reader' }, [sa('other', 'x')])] };
    expect(run(state([stored('w1', env)], elsewhere))).toEqual([]);
  });

  it('is critical when every authenticated user may', () => {
    const out = run(state([stored('w1', env)], { ...base, ClusterRoleBinding: [clusterRoleBinding('all', 'secret-reader', [group('system:authenticated')])] }));
    expect(out[0].severity).toBe('critical');
  });
});
