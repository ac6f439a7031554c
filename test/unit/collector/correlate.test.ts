import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { valueKey } from '../../../collector/store/rows.js';
import type { NodeRecord, SettingRow, StoredFinding } from '../../../collector/store/types.js';
import { correlate } from '../../../collector/correlate/rules.js';
import { computeScore, cisSection } from '../../../collector/correlate/score.js';
import { referencedHosts } from '../../../collector/correlate/facts.js';
import type { ClusterState, Correlation } from '../../../collector/correlate/types.js';
import { finding, T0 } from './helpers.js';

const NOW = T0 + 60_000;

function node(name: string, roles: string[], lastReport = NOW - 1000): NodeRecord {
  return { name, roles, agentVersion: '0.1.0', info: {}, firstSeen: T0, lastReport, lastScan: lastReport, lastSeq: null,
    summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 }, failingBySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 } };
}

const stored = (n: string, f: Finding): StoredFinding => ({ node: n, finding: f, firstSeen: T0, lastSeen: NOW, changedAt: T0, resolvedAt: null });
const setting = (s: StoredFinding): SettingRow => ({ node: s.node, findingId: s.finding.id, checkId: s.finding.checkId,
  status: s.finding.status, severity: s.finding.severity, valueKey: valueKey(s.finding.evidence.value) });

function state(nodes: NodeRecord[], facts: StoredFinding[]): ClusterState {
  return {
    now: NOW, silentAfterMs: 30_000, nodes, facts,
    settings: facts.filter((f) => ['component', 'file', 'node', 'kernel'].includes(f.finding.resource.kind)).map(setting),
    checkTitles: new Map([['cis-4.2.1', 'Kubelet anonymous auth disabled']]),
  };
}

const anon = (v: unknown) => finding({ checkId: 'cis-4.2.1', cis: '4.2.1', severity: 'high', value: v,
  status: v === true || v === 'true' ? 'fail' : 'pass' });
const authz = (v: unknown) => finding({ checkId: 'cis-4.2.2', cis: '4.2.2', severity: 'high', value: v,
  status: String(v).includes('AlwaysAllow') ? 'fail' : 'pass' });
const port = (address: string, p: number, proc?: string) => finding({ checkId: 'port-listener', component: 'node', severity: 'info',
  resource: { kind: 'port', protocol: 'tcp', address, port: p, ...(proc ? { process: proc } : {}) } });
const etcdCert = (v: unknown, status: 'pass' | 'fail') => finding({ checkId: 'cis-2.2', cis: '2.2', component: 'etcd', value: v, status,
  resource: { kind: 'component', component: 'etcd' } });
const container = (pod: string, checkId: string, extra: Partial<Finding> & { value?: unknown; key?: string }) => finding({
  checkId, component: 'container', status: 'fail', ...extra,
  resource: { kind: 'container', id: `${pod}-${checkId}`, namespace: 'apps', pod, container: 'c' },
  evidence: { source: 'oci', key: extra.key ?? checkId, value: extra.value },
});
const privileged = (pod: string) => container(pod, 'container-privileged', { pss: 'privileged', value: true });
const hostPid = (pod: string) => container(pod, 'container-host-pid', { pss: 'hostNamespaces', value: true, key: 'spec.hostPID' });
const hostPath = (pod: string, paths: string[]) => container(pod, 'container-host-path', { pss: 'hostPathVolumes', value: paths });
const file = (path: string) => finding({ checkId: 'cis-1.1.12', component: 'etcd', resource: { kind: 'file', path } });

const rules = (cs: Correlation[], rule: string) => cs.filter((c) => c.rule === rule);

describe('drift', () => {
  it('flags the worker whose setting differs from the majority of its role', () => {
    const facts = [stored('w1', anon(false)), stored('w2', anon(false)), stored('w3', anon(true)), stored('cp', anon(true))];
    const cs = rules(correlate(state([node('w1', ['worker']), node('w2', ['worker']), node('w3', ['worker']), node('cp', ['control-plane'])], facts)), 'drift-setting');
    expect(cs).toHaveLength(1);
    expect(cs[0]).toMatchObject({ kind: 'drift', severity: 'high', nodes: ['w3'] });
    expect(cs[0].title).toContain('Kubelet anonymous auth disabled');
    expect(cs[0].evidence[0]).toMatchObject({ node: 'w3', findingId: anon(true).id, value: true });
    expect(cs[0].evidence.slice(1).map((e) => e.node)).toEqual(['w1', 'w2']);
  });

  it('with two nodes that disagree, the failing one drifted from the passing one', () => {
    const facts = [stored('w1', anon(false)), stored('w2', anon(true))];
    const cs = rules(correlate(state([node('w1', ['worker']), node('w2', ['worker'])], facts)), 'drift-setting');
    expect(cs.map((c) => c.nodes)).toEqual([['w2']]);
  });

  it('does not call drift where nodes merely differ (all passing) or where roles differ', () => {
    const a = finding({ checkId: 'cis-1.2.18', value: '/var/log/a.log', status: 'pass' });
    const b = finding({ checkId: 'cis-1.2.18', value: '/var/log/b.log', status: 'pass' });
    const cs = correlate(state([node('w1', ['worker']), node('w2', ['worker']), node('cp', ['control-plane'])],
      [stored('w1', a), stored('w2', b), stored('cp', anon(true)), stored('w1', anon(false))]));
    expect(rules(cs, 'drift-setting')).toEqual([]);
  });

  it('names the role compared and its baseline: the majority value, or the status for a check without a value', () => {
    const facts = [stored('w1', anon(false)), stored('w2', anon(false)), stored('w3', anon(true)), stored('cp', anon(true))];
    const [c] = rules(correlate(state([node('w1', ['worker']), node('w2', ['worker']), node('w3', ['worker']), node('cp', ['control-plane'])], facts)), 'drift-setting');
    expect(c).toMatchObject({ role: 'worker', baseline: { value: false, nodes: 2, of: 3 } });
    const noValue = (status: 'pass' | 'fail') => finding({ checkId: 'cis-1.1.1', status, severity: 'medium', component: 'kube-apiserver',
      evidence: { source: 'file', path: '/etc/kubernetes/manifests/kube-apiserver.yaml' } });
    const [byStatus] = rules(correlate(state(['a', 'b', 'c'].map((n) => node(n, ['control-plane', 'etcd'])),
      [stored('a', noValue('pass')), stored('b', noValue('pass')), stored('c', noValue('fail'))])), 'drift-setting');
    expect(byStatus).toMatchObject({ role: 'control-plane,etcd', baseline: { status: 'pass', nodes: 2, of: 3 }, nodes: ['c'] });
    expect(byStatus.baseline).not.toHaveProperty('value');
  });

  it('reports a node drifting towards the secure side as low severity', () => {
    const facts = ['a', 'b', 'c'].map((n) => stored(n, anon(true))).concat(stored('d', anon(false)));
    const cs = rules(correlate(state(['a', 'b', 'c', 'd'].map((n) => node(n, ['worker'])), facts)), 'drift-setting');
    expect(cs.map((c) => [c.nodes[0], c.severity])).toEqual([['d', 'low']]);
  });
});

describe('attack paths', () => {
  const nodes = [node('w1', ['worker']), node('w2', ['worker'])];
  it('kubelet anonymous + AlwaysAllow + 10250 on a non-loopback address = unauthenticated exec', () => {
    const facts = [stored('w1', anon('true')), stored('w1', authz('Webhook,AlwaysAllow')), stored('w1', port('0.0.0.0', 10250)),
      stored('w2', anon(true)), stored('w2', authz(['AlwaysAllow'])), stored('w2', port('127.0.0.1', 10250))];
    const cs = rules(correlate(state(nodes, facts)), 'kubelet-unauthenticated-exec');
    expect(cs).toHaveLength(1);
    expect(cs[0]).toMatchObject({ kind: 'attack-path', severity: 'critical', nodes: ['w1'] });
    expect(cs[0].evidence.map((e) => e.checkId)).toEqual(['cis-4.2.1', 'cis-4.2.2', 'port-listener']);
    expect(cs[0].title).toContain('0.0.0.0:10250');
  });

  it('needs all three facts', () => {
    const cases = [
      [anon(false), authz('AlwaysAllow'), port('0.0.0.0', 10250)],
      [anon(true), authz('Webhook'), port('0.0.0.0', 10250)],
      [anon(true), authz('AlwaysAllow')],
      [anon(true), authz('AlwaysAllow'), port('0.0.0.0', 10255)],
    ];
    for (const fs of cases) {
      expect(rules(correlate(state(nodes, fs.map((f) => stored('w1', f)))), 'kubelet-unauthenticated-exec')).toEqual([]);
    }
  });

  it('etcd on a non-loopback address without client-cert-auth = cluster secrets readable', () => {
    const facts = [stored('cp1', etcdCert(false, 'fail')), stored('cp1', port('10.0.0.1', 2379, 'etcd')),
      stored('cp2', etcdCert(false, 'fail')), stored('cp2', port('127.0.0.1', 2379, 'etcd')),
      stored('cp3', etcdCert(true, 'pass')), stored('cp3', port('0.0.0.0', 2379, 'etcd')),
      stored('cp4', etcdCert(undefined, 'fail')), stored('cp4', port('::', 12379, 'etcd'))];
    const cs = rules(correlate(state(['cp1', 'cp2', 'cp3', 'cp4'].map((n) => node(n, ['control-plane'])), facts)), 'etcd-secrets-readable');
    expect(cs.map((c) => c.nodes[0])).toEqual(['cp1', 'cp4']);
  });

  it('privileged or hostPID container + mounted runtime socket in the same pod = node takeover', () => {
    const facts = [
      stored('w1', privileged('ci-runner')), stored('w1', hostPath('ci-runner', ['/run/containerd/containerd.sock'])),
      stored('w1', hostPid('monitor')), stored('w1', hostPath('monitor', ['/var/run/docker.sock', '/tmp'])),
      stored('w2', privileged('a')), stored('w2', hostPath('b', ['/run/containerd/containerd.sock'])),
      stored('w2', container('c', 'container-privileged', { pss: 'privileged', value: false, status: 'pass' })),
      stored('w2', hostPath('c', ['/run/containerd/containerd.sock'])),
      // The sensitive-mount check names one mount per finding, as an object; evidence.path is the spec it came from.
      stored('w2', hostPid('agent')),
      stored('w2', container('agent', 'container-sensitive-host-mount', { value: { source: '/run/crio/crio.sock', destination: '/crio.sock', readOnly: true } })),
      stored('w2', finding({ checkId: 'container-sensitive-host-mount', component: 'container', status: 'fail',
        resource: { kind: 'container', id: 'x', namespace: 'apps', pod: 'spec-only', container: 'c' },
        evidence: { source: 'oci', key: 'mounts', path: '/run/containerd/containerd.sock', value: { source: '/data' } } })),
      stored('w2', privileged('spec-only')),
    ];
    const cs = rules(correlate(state(nodes, facts)), 'pod-node-takeover');
    expect(cs.map((c) => c.title)).toEqual([
      'Node takeover from pod apps/ci-runner on w1: privileged with /run/containerd/containerd.sock mounted',
      'Node takeover from pod apps/monitor on w1: hostPID with /var/run/docker.sock mounted',
      'Node takeover from pod apps/agent on w2: hostPID with /run/crio/crio.sock mounted',
    ]);
    expect(cs[0].evidence).toHaveLength(2);
  });

  it('a pod with hostPath / on a node holding etcd data or control-plane keys reads cluster secrets', () => {
    const facts = [
      stored('cp', hostPath('debug', ['/'])), stored('cp', file('/var/lib/etcd')),
      stored('w1', hostPath('debug', ['/'])), stored('w1', file('/var/lib/kubelet/config.yaml')),
      stored('w2', hostPath('logs', ['/var/log'])), stored('w2', file('/etc/kubernetes/pki/sa.key')),
    ];
    const cs = rules(correlate(state([node('cp', ['control-plane']), ...nodes], facts)), 'host-root-secrets');
    expect(cs.map((c) => c.nodes)).toEqual([['cp']]);
    expect(cs[0].title).toContain('/var/lib/etcd');
  });
});

describe('coverage', () => {
  it('flags nodes silent for longer than the threshold', () => {
    const cs = rules(correlate(state([node('up', ['worker']), node('gone', ['worker'], NOW - 31_000)], [])), 'silent-node');
    expect(cs.map((c) => c.nodes)).toEqual([['gone']]);
  });

  it('flags hosts named in settings that run no agent', () => {
    const servers = finding({ checkId: 'cis-1.2.29', component: 'kube-apiserver', resource: { kind: 'component', component: 'kube-apiserver' },
      evidence: { source: 'flag', key: '--etcd-servers', value: 'https://cp-1.example:2379,https://10.0.0.9:2379,https://127.0.0.1:2379' } });
    const cs = rules(correlate(state([node('cp-1', ['control-plane'])], [stored('cp-1', servers)])), 'unmonitored-peer');
    expect(cs.map((c) => [c.id, c.nodes])).toEqual([['coverage:unmonitored-peer:10.0.0.9', ['cp-1']]]);
    expect(referencedHosts('etcd-a=https://10.0.0.1:2380,etcd-b=https://[fd00::2]:2380')).toEqual(['10.0.0.1', 'fd00::2']);
  });
});

describe('score', () => {
  it('pass rate per node, component and CIS section', () => {
    const nodes = [node('a', ['worker']), node('b', ['worker'])];
    nodes[0].summary = { pass: 3, fail: 1, warn: 0, skip: 5, error: 0 };
    nodes[1].summary = { pass: 0, fail: 0, warn: 0, skip: 1, error: 0 };
    const score = computeScore(nodes, [
      { checkId: 'cis-4.2.1', cis: '4.2.1', title: 't', component: 'kubelet', severity: 'high', counts: { pass: 1, fail: 1, warn: 0, skip: 0, error: 0 } },
      { checkId: 'cis-4.2.2', cis: '4.2.2', title: 't', component: 'kubelet', severity: 'high', counts: { pass: 2, fail: 0, warn: 0, skip: 0, error: 0 } },
      { checkId: 'cis-2.2', cis: '2.2', title: 't', component: 'etcd', severity: 'high', counts: { pass: 0, fail: 1, warn: 1, skip: 0, error: 0 } },
    ]);
    expect(score.cluster).toEqual({ pass: 3, fail: 1, warn: 0, rate: 0.75 });
    expect(score.nodes).toEqual([{ name: 'a', pass: 3, fail: 1, warn: 0, rate: 0.75 }, { name: 'b', pass: 0, fail: 0, warn: 0, rate: null }]);
    expect(score.components).toEqual({ etcd: { pass: 0, fail: 1, warn: 1, rate: 0 }, kubelet: { pass: 3, fail: 1, warn: 0, rate: 0.75 } });
    expect(Object.keys(score.sections)).toEqual(['2', '4.2']);
    expect(cisSection('1.2.10')).toBe('1.2');
  });
});
