// The collector reading a STAND-IN Kubernetes API (no kube-apiserver can run here; test/harness/kube-api.ts answers
// client-node's list and watch requests from the objects below): cluster findings stored under node `cluster`,
// filterable by CIS id, changing as watch events arrive; the permissions route; no agent may write node `cluster`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StandInKind } from '../../harness/kube-api.js';
import { report } from '../../unit/collector/helpers.js';
import {
  BOOTSTRAP, clusterRole, clusterRoleBinding, group, namespace, networkPolicy, pod, roleBinding, sa, serviceAccount, type RawObjects,
} from '../../unit/cluster/fixtures.js';
import { eventually, startClusterCollector, type ClusterCollector } from './harness.js';

const CLUSTER: RawObjects = {
  Namespace: [namespace('kube-system'), namespace('ci', { 'pod-security.kubernetes.io/enforce': 'baseline' }), namespace('shop')],
  ServiceAccount: [serviceAccount('ci', 'default', false), serviceAccount('ci', 'runner'), serviceAccount('shop', 'default', false)],
  ClusterRole: [
    ...BOOTSTRAP.ClusterRole!,
    clusterRole('pod-maker', [{ verbs: ['create', 'get', 'list'], resources: ['pods'] }]),
    clusterRole('aggregated-reader', [], { aggregate: [{ 'vigil.test/aggregate': 'true' }] }),
    clusterRole('secret-piece', [{ verbs: ['get'], resources: ['secrets'], resourceNames: ['ci-token'] }], { labels: { 'vigil.test/aggregate': 'true' } }),
  ],
  ClusterRoleBinding: [...BOOTSTRAP.ClusterRoleBinding!],
  RoleBinding: [
    roleBinding('ci', 'runner-pods', { kind: 'ClusterRole', name: 'pod-maker' }, [sa('ci', 'runner')]),
    roleBinding('ci', 'runner-reads', { kind: 'ClusterRole', name: 'aggregated-reader' }, [sa('ci', 'runner')]),
  ],
  NetworkPolicy: [networkPolicy('ci', 'default-deny')],
  Pod: [pod('ci', 'runner-1', { serviceAccountName: 'runner', nodeName: 'worker-1' })],
};

function load(api: ClusterCollector['api'], objects: RawObjects): void {
  for (const [kind, list] of Object.entries(objects)) for (const o of list ?? []) api.apply(kind as StandInKind, o as never);
}

describe('the collector reads the Kubernetes API (stand-in server)', () => {
  let c: ClusterCollector;
  const clusterFindings = async (query = '') => (await c.get(`/api/v1/findings?node=cluster&limit=1000${query}`)).body.items as any[];

  beforeAll(async () => {
    c = await startClusterCollector({ before: (api) => load(api, CLUSTER) });
    await c.settled();
  });
  afterAll(async () => { await c?.stop(); });

  it('reads every collection with list then watch, with its token, and never Secrets', () => {
    const paths = new Set(c.api.requests.map((r) => r.path));
    expect([...paths].sort()).toEqual([
      '/api/v1/namespaces', '/api/v1/pods', '/api/v1/serviceaccounts',
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies',
      '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
      '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
      '/apis/networking.k8s.io/v1/networkpolicies',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      '/apis/rbac.authorization.k8s.io/v1/rolebindings', '/apis/rbac.authorization.k8s.io/v1/roles',
    ]);
    expect(c.api.requests.every((r) => r.authorization === `Bearer ${c.api.token}` && r.method === 'GET')).toBe(true);
    expect(c.api.requests.some((r) => /secrets/.test(r.path))).toBe(false);
  });

  it('stores cluster findings under node cluster, filterable by CIS section', async () => {
    const node = await c.get('/api/v1/nodes/cluster');
    expect(node.status).toBe(200);
    expect(node.body).toMatchObject({ name: 'cluster', roles: ['cluster'] });
    const rbac = await clusterFindings('&cis=5.1&status=fail,warn');
    expect(rbac.every((f) => f.cis.startsWith('5.1.'))).toBe(true);
    const podCreate = rbac.find((f) => f.checkId === 'cis-5.1.4');
    expect(podCreate).toMatchObject({
      status: 'fail',
      resource: { kind: 'rolebinding', namespace: 'ci', name: 'runner-pods', subject: 'ServiceAccount ci/runner' },
      evidence: { value: { subject: 'ServiceAccount ci/runner', binding: 'RoleBinding ci/runner-pods', role: 'ClusterRole pod-maker' } },
    });
    // The aggregated role is resolved from its selector (the stand-in has no aggregation controller filling it).
    const secrets = rbac.find((f) => f.checkId === 'cis-5.1.2');
    expect(secrets).toMatchObject({ status: 'warn', severity: 'low' });
    expect(secrets.title).toContain('(only ci-token)');
    const ns = await clusterFindings('&cis=5.3.2&status=fail');
    expect(ns.map((f) => f.resource.name).sort()).toEqual(['kube-system', 'shop']);
  });

  it('changes findings as watch events arrive: a new binding fails 5.1.2, its deletion resolves it', async () => {
    c.api.apply('ClusterRole', clusterRole('read-all-secrets', [{ verbs: ['list'], resources: ['secrets'] }]) as never);
    c.api.apply('ClusterRoleBinding', clusterRoleBinding('everyone-reads', 'read-all-secrets', [group('system:authenticated')]) as never);
    const failing = await eventually('5.1.2 fail', async () =>
      (await clusterFindings('&check=cis-5.1.2&status=fail')).find((f) => f.resource.name === 'everyone-reads'));
    expect(failing.severity).toBe('critical');

    c.api.remove('ClusterRoleBinding', 'everyone-reads');
    await eventually('resolved', async () =>
      (await clusterFindings('&check=cis-5.1.2&status=resolved')).find((f) => f.id === failing.id));
    const events = (await c.get(`/api/v1/nodes/cluster?history=1000`)).body.history.events as any[];
    expect(events.some((e) => e.findingId === failing.id && e.event === 'resolved')).toBe(true);
  });

  it('fixes a namespace finding when a NetworkPolicy appears (and relists after the watch expires)', async () => {
    c.api.expire('NetworkPolicy');
    c.api.apply('NetworkPolicy', networkPolicy('shop', 'default-deny') as never);
    await eventually('shop covered', async () =>
      !(await clusterFindings('&cis=5.3.2&status=fail')).some((f) => f.resource.name === 'shop'));
  });

  it('answers GET /api/v1/serviceaccounts/{ns}/{name}/permissions', async () => {
    const res = await c.get('/api/v1/serviceaccounts/ci/runner/permissions');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      namespace: 'ci', name: 'runner', exists: true, automountServiceAccountToken: null,
      user: 'system:serviceaccount:ci:runner',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
      pods: ['ci/runner-1'],
    });
    expect(res.body.capabilities.map((x: any) => [x.capability, x.reach, x.scope])).toEqual([
      ['create-pods', 'all', 'ci'], ['read-secrets', 'named', 'ci'],
    ]);
    const aggregated = res.body.grants.find((g: any) => g.role.name === 'aggregated-reader');
    expect(aggregated).toMatchObject({ aggregatedFrom: 'secret-piece', pending: true, scope: 'ci', builtIn: false });
    expect((await c.get('/api/v1/serviceaccounts/ci/nobody/permissions')).status).toBe(404);
    const bad = await c.get('/api/v1/serviceaccounts/CI!/runner/permissions');
    expect(bad.status).toBe(400);
    expect(bad.body.parameter).toBe('namespace');
    expect((await c.get('/api/v1/serviceaccounts/ci/runner/permissions', 'not-a-token')).status).toBe(401);
  });

  it('refuses node cluster to every agent: a report for it is answered 403 and stores nothing', async () => {
    await c.settled();
    const before = await clusterFindings();
    const forged = report('cluster', []);
    const res = await c.post('/api/v1/reports', forged);
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/reserved/);
    expect((await clusterFindings()).length).toBe(before.length);
    expect((await c.post('/api/v1/reports', report('worker-1', []))).status).toBe(200);
  });
});

describe('without the Kubernetes API', () => {
  it('answers the permissions route with 503 and stores no cluster node', async () => {
    const c = await startClusterCollector({ kube: false });
    try {
      expect(c.collector.cluster).toBeUndefined();
      const res = await c.get('/api/v1/serviceaccounts/ci/runner/permissions');
      expect(res.status).toBe(503);
      expect((await c.get('/api/v1/nodes/cluster')).status).toBe(404);
    } finally {
      await c.stop();
    }
  });

  it('reports an error finding per check while RBAC is forbidden, and judges once it is granted', async () => {
    const c = await startClusterCollector({ before: (api) => { load(api, CLUSTER); api.fail('ClusterRoleBinding', 403, { on: 'list', times: 3 }); } });
    try {
      const errors = await eventually('errors', async () => {
        const items = (await c.get('/api/v1/findings?node=cluster&status=error&limit=100')).body.items as any[];
        return items.length ? items : undefined;
      });
      expect(errors.map((f) => f.evidence.detail)).toContainEqual(expect.stringContaining('ClusterRoleBinding: forbidden'));
      await eventually('judged', async () =>
        (await c.get('/api/v1/findings?node=cluster&status=error&limit=100')).body.items.length === 0
        && (await c.get('/api/v1/findings?node=cluster&check=cis-5.1.4&status=fail')).body.items.length === 1);
    } finally {
      await c.stop();
    }
  });
});
