// The CIS §5 rows the collector judges from the API, each on a snapshot written as the API server would send the
// objects, with the cases where kube-bench or kubescape answer differently.
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { EMPTY_NODE_VIEW, evaluateChecks, type NodeView } from '../../../collector/cluster/checks/catalogue.js';
import { CLUSTER_CHECKS } from '../../../collector/cluster/checks/index.js';
import { ClusterModel } from '../../../collector/cluster/model.js';
import {
  BOOTSTRAP, clusterRole, clusterRoleBinding, group, merge, namespace, networkPolicy, pod, role, roleBinding, sa, serviceAccount,
  snapshot, user, type RawObjects,
} from './fixtures.js';

function judge(objects: RawObjects, nodes: NodeView = EMPTY_NODE_VIEW): Finding[] {
  return evaluateChecks(CLUSTER_CHECKS, { snapshot: snapshot(merge(BOOTSTRAP, objects)), nodes });
}

const of = (findings: Finding[], checkId: string): Finding[] => findings.filter((f) => f.checkId === checkId);
const bad = (findings: Finding[], checkId: string): Finding[] => of(findings, checkId).filter((f) => f.status !== 'pass');

describe('the catalogue', () => {
  it('has one row per CIS id, each with what it reads and a remediation', () => {
    expect(CLUSTER_CHECKS.map((c) => c.cis)).toEqual(['5.1.1', '5.1.2', '5.1.3', '5.1.4', '5.1.5', '5.1.6', '5.1.7', '5.1.8', '5.2.1', '5.3.2', '5.4.1', '5.7.2', '5.7.3', '5.7.4']);
    for (const c of CLUSTER_CHECKS) {
      expect(c.id).toBe(`cis-${c.cis}`);
      expect(c.reads.length).toBeGreaterThan(0);
      expect(c.remediation.length).toBeGreaterThan(20);
    }
  });

  it('on a stock cluster (only the bootstrap policy) every RBAC row passes', () => {
    const f = judge({});
    for (const id of ['cis-5.1.1', 'cis-5.1.2', 'cis-5.1.3', 'cis-5.1.4', 'cis-5.1.7', 'cis-5.1.8']) {
      expect(of(f, id).map((x) => x.status), id).toEqual(['pass']);
      expect(of(f, id)[0]).toMatchObject({ resource: { kind: 'node' } });
    }
    expect(of(f, 'cis-5.1.2')[0].evidence.detail).toContain('built-in grant');
  });

  it('reports an error per row whose kinds cannot be read, naming them', () => {
    const model = new ClusterModel();
    model.setStatus('ClusterRoleBinding', 'forbidden', 'HTTP 403: Forbidden');
    const f = evaluateChecks(CLUSTER_CHECKS, { snapshot: model.snapshot(), nodes: EMPTY_NODE_VIEW });
    const e = of(f, 'cis-5.1.2');
    expect(e).toHaveLength(1);
    expect(e[0].status).toBe('error');
    expect(e[0].evidence.detail).toContain('ClusterRoleBinding: forbidden (HTTP 403: Forbidden)');
  });

  it('gives stable ids: the same subject and binding keep their id when the rules change', () => {
    const a = of(judge({ ClusterRole: [clusterRole('r', [{ verbs: ['get'], resources: ['secrets'] }])], ClusterRoleBinding: [clusterRoleBinding('b', 'r', [sa('x', 'y')])] }), 'cis-5.1.2');
    const b = of(judge({ ClusterRole: [clusterRole('r', [{ verbs: ['list', 'watch'], resources: ['secrets'] }])], ClusterRoleBinding: [clusterRoleBinding('b', 'r', [sa('x', 'y')])] }), 'cis-5.1.2');
    expect(a[0].id).toBe(b[0].id);
    expect(a[0].evidence.value).not.toEqual(b[0].evidence.value);
  });
});

describe('5.1.1 cluster-admin', () => {
  it('flags any binding that grants every permission, under any role name, and names subject, binding and rule', () => {
    const f = bad(judge({
      ClusterRole: [clusterRole('god-mode', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }])],
      ClusterRoleBinding: [clusterRoleBinding('ci-admin', 'cluster-admin', [sa('ci', 'deployer')]), clusterRoleBinding('ops', 'god-mode', [group('ops')])],
      RoleBinding: [roleBinding('team-a', 'team-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [user('alice')])],
    }), 'cis-5.1.1');
    expect(f.map((x) => [x.status, x.severity, x.resource]).sort()).toEqual([
      ['fail', 'high', { kind: 'clusterrolebinding', name: 'ci-admin', subject: 'ServiceAccount ci/deployer' }],
      ['fail', 'high', { kind: 'clusterrolebinding', name: 'ops', subject: 'Group ops' }],
      ['fail', 'medium', { kind: 'rolebinding', name: 'team-admin', namespace: 'team-a', subject: 'User alice' }],
    ].sort());
    const ci = f.find((x) => x.resource.kind === 'clusterrolebinding' && (x.resource as { name: string }).name === 'ci-admin')!;
    expect(ci.title).toBe('ServiceAccount ci/deployer holds every permission in every namespace through ClusterRoleBinding ci-admin → ClusterRole cluster-admin');
    expect(ci.evidence.value).toMatchObject({ subject: 'ServiceAccount ci/deployer', binding: 'ClusterRoleBinding ci-admin', role: 'ClusterRole cluster-admin', rules: ['verbs=* apiGroups=* resources=*'] });
  });

  it("warns on kubeadm's admin.conf group instead of failing every kubeadm cluster (kube-bench does)", () => {
    const f = bad(judge({ ClusterRoleBinding: [clusterRoleBinding('kubeadm:cluster-admins', 'cluster-admin', [group('kubeadm:cluster-admins')])] }), 'cis-5.1.1');
    expect(f.map((x) => [x.status, x.severity])).toEqual([['warn', 'low']]);
  });

  it('is critical when every authenticated user gets it', () => {
    const f = bad(judge({ ClusterRoleBinding: [clusterRoleBinding('oops', 'cluster-admin', [group('system:authenticated')])] }), 'cis-5.1.1');
    expect(f[0].severity).toBe('critical');
    expect(f[0].title).toContain('every authenticated user');
  });
});

describe('5.1.2 access to secrets', () => {
  it('finds get alone granted to system:authenticated (kube-bench\'s comma verb misses it)', () => {
    const f = bad(judge({
      ClusterRole: [clusterRole('read-one-verb', [{ verbs: ['get'], resources: ['secrets'] }])],
      ClusterRoleBinding: [clusterRoleBinding('everyone', 'read-one-verb', [group('system:authenticated')])],
    }), 'cis-5.1.2');
    expect(f.map((x) => [x.status, x.severity])).toEqual([['fail', 'critical']]);
  });

  it('reports a resourceNames rule as a low warning naming the Secrets (kubescape counts it as full access)', () => {
    const f = bad(judge({
      Role: [role('web', 'tls-reader', [{ verbs: ['get'], resources: ['secrets'], resourceNames: ['web-tls'] }])],
      RoleBinding: [roleBinding('web', 'tls', { kind: 'Role', name: 'tls-reader' }, [sa('web', 'nginx')])],
    }), 'cis-5.1.2');
    expect(f.map((x) => [x.status, x.severity])).toEqual([['warn', 'low']]);
    expect(f[0].title).toContain('(only web-tls)');
    expect(f[0].title).toContain('in namespace web');
  });

  it('finds secrets granted through a wildcard API group and through an aggregated ClusterRole it resolves itself', () => {
    const f = bad(judge({
      ClusterRole: [
        clusterRole('any-group', [{ verbs: ['list'], apiGroups: ['*'], resources: ['secrets'] }]),
        clusterRole('aggregate', [], { aggregate: [{ 'example.com/agg': 'true' }] }),
        clusterRole('piece', [{ verbs: ['watch'], resources: ['secrets'] }], { labels: { 'example.com/agg': 'true' } }),
      ],
      ClusterRoleBinding: [clusterRoleBinding('a', 'any-group', [sa('x', 'a')]), clusterRoleBinding('b', 'aggregate', [sa('x', 'b')])],
    }), 'cis-5.1.2');
    expect(f.map((x) => (x.resource as { subject: string }).subject).sort()).toEqual(['ServiceAccount x/a', 'ServiceAccount x/b']);
    expect(f.find((x) => (x.resource as { subject: string }).subject === 'ServiceAccount x/b')!.evidence.value).toMatchObject({ aggregatedFrom: ['piece'] });
  });

  it('finds secrets granted to every ServiceAccount of a namespace through system:serviceaccounts:NS', () => {
    const f = bad(judge({
      ClusterRole: [clusterRole('secrets', [{ verbs: ['get', 'list'], resources: ['secrets'] }])],
      RoleBinding: [roleBinding('ci', 'all-sas', { kind: 'ClusterRole', name: 'secrets' }, [group('system:serviceaccounts:ci')])],
    }), 'cis-5.1.2');
    expect(f).toHaveLength(1);
    expect(f[0].title).toBe('Group system:serviceaccounts:ci (every ServiceAccount in ci) can read Secrets in namespace ci, through RoleBinding ci/all-sas → ClusterRole secrets');
    expect(f[0].severity).toBe('critical');
  });
});

describe('5.1.3 wildcards', () => {
  it('flags partial wildcards (kubescape only flags * everywhere) and skips the built-in roles (kube-bench flags cluster-admin)', () => {
    const f = bad(judge({
      ClusterRole: [clusterRole('all-verbs-on-pods', [{ verbs: ['*'], resources: ['pods'] }]), clusterRole('unused', [{ verbs: ['get'], resources: ['*'] }])],
      ClusterRoleBinding: [clusterRoleBinding('b', 'all-verbs-on-pods', [sa('a', 'b')])],
    }), 'cis-5.1.3');
    expect(f.map((x) => [(x.resource as { name: string }).name, x.severity]).sort()).toEqual([['all-verbs-on-pods', 'medium'], ['unused', 'low']]);
    expect(f.find((x) => (x.resource as { name: string }).name === 'unused')!.title).toContain('bound by no binding');
  });
});

describe('5.1.4 pod creation and 5.1.8 bind/escalate/impersonate', () => {
  it('reports every subject that may create pods, not only system:authenticated', () => {
    const f = bad(judge({
      Role: [role('ci', 'runner', [{ verbs: ['create'], resources: ['pods'] }])],
      RoleBinding: [roleBinding('ci', 'runner', { kind: 'Role', name: 'runner' }, [sa('ci', 'runner')])],
    }), 'cis-5.1.4');
    expect(f.map((x) => [x.status, x.severity, x.title])).toEqual([['fail', 'medium',
      'ServiceAccount ci/runner can create pods (and run them as any ServiceAccount of the namespace) in namespace ci, through RoleBinding ci/runner → Role ci/runner']]);
  });

  it('finds impersonation of uids and a bind restricted to named roles', () => {
    const f = bad(judge({
      ClusterRole: [
        clusterRole('uid-imp', [{ verbs: ['impersonate'], apiGroups: ['authentication.k8s.io'], resources: ['uids'] }]),
        clusterRole('binder', [{ verbs: ['bind'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['view'] }]),
      ],
      ClusterRoleBinding: [clusterRoleBinding('imp', 'uid-imp', [sa('x', 'a')]), clusterRoleBinding('bind', 'binder', [sa('x', 'b')])],
    }), 'cis-5.1.8');
    expect(f.map((x) => [(x.resource as { name: string }).name, x.status, x.severity]).sort()).toEqual([['bind', 'warn', 'low'], ['imp', 'fail', 'high']]);
  });
});

describe('5.1.5 default ServiceAccounts, 5.1.6 token mounts, 5.1.7 system:masters', () => {
  it('fails a default ServiceAccount that automounts, and more severely one that is bound to a role', () => {
    const f = bad(judge({
      ServiceAccount: [serviceAccount('a', 'default'), serviceAccount('b', 'default', false), serviceAccount('c', 'default', false)],
      Role: [role('c', 'r', [{ verbs: ['get'], resources: ['configmaps'] }])],
      RoleBinding: [roleBinding('c', 'uses-default', { kind: 'Role', name: 'r' }, [{ kind: 'ServiceAccount', name: 'default' }])],
    }), 'cis-5.1.5');
    expect(f.map((x) => [(x.resource as { namespace: string }).namespace, x.severity]).sort()).toEqual([['a', 'medium'], ['c', 'high']]);
  });

  it('fails pods whose mounted token carries permissions, warns on tokens without any, passes pods without a token', () => {
    const f = bad(judge({
      ServiceAccount: [serviceAccount('app', 'api'), serviceAccount('app', 'default')],
      Role: [role('app', 'cm', [{ verbs: ['get'], resources: ['configmaps'] }])],
      RoleBinding: [roleBinding('app', 'api-cm', { kind: 'Role', name: 'cm' }, [sa('app', 'api')])],
      Pod: [
        pod('app', 'uses-api', { serviceAccountName: 'api' }),
        pod('app', 'idle-token'),
        pod('app', 'no-token', { token: false }),
        pod('app', 'done', { phase: 'Succeeded' }),
      ],
    }), 'cis-5.1.6');
    expect(f.map((x) => [(x.resource as { name: string }).name, x.status, x.severity]).sort()).toEqual([['idle-token', 'warn', 'low'], ['uses-api', 'fail', 'medium']]);
  });

  it('fails bindings to system:masters other than the built-in one', () => {
    const f = bad(judge({ ClusterRoleBinding: [clusterRoleBinding('sneaky', 'view', [group('system:masters')])] }), 'cis-5.1.7');
    expect(f.map((x) => [(x.resource as { name: string }).name, x.severity])).toEqual([['sneaky', 'critical']]);
  });
});

describe('5.2.1 policy control and 5.3.2 NetworkPolicies, per namespace', () => {
  it('passes enforce baseline/restricted, fails none or privileged, warns when only an admission policy sees the pods', () => {
    const f = bad(judge({
      Namespace: [
        namespace('strict', { 'pod-security.kubernetes.io/enforce': 'restricted' }),
        namespace('open', { 'pod-security.kubernetes.io/enforce': 'privileged' }),
        namespace('audit-only', { 'pod-security.kubernetes.io/audit': 'baseline' }),
        namespace('gated', { team: 'gated' }),
      ],
      ValidatingWebhookConfiguration: [{
        metadata: { name: 'policy-engine' },
        webhooks: [{ name: 'pods.policy.example.com', namespaceSelector: { matchLabels: { team: 'gated' } },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }] }],
      }, {
        // cert-manager-like: namespaced, but never sees pods (kubescape counts it as policy control).
        metadata: { name: 'cert-manager-webhook' },
        webhooks: [{ name: 'webhook.cert-manager.io', rules: [{ operations: ['CREATE'], apiGroups: ['cert-manager.io'], apiVersions: ['v1'], resources: ['*'], scope: 'Namespaced' }] }],
      }],
    }), 'cis-5.2.1');
    expect(f.map((x) => [(x.resource as { name: string }).name, x.status]).sort()).toEqual([['audit-only', 'fail'], ['gated', 'warn'], ['open', 'fail']]);
    expect(f.find((x) => (x.resource as { name: string }).name === 'gated')!.title).toContain('ValidatingWebhookConfiguration policy-engine');
  });

  it('counts a ValidatingAdmissionPolicy with a Deny binding that sees pods in the namespace', () => {
    const f = bad(judge({
      Namespace: [namespace('vap')],
      ValidatingAdmissionPolicy: [{ metadata: { name: 'no-privileged' }, spec: { matchConstraints: { resourceRules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }] }, validations: [{ expression: 'true' }] } }],
      ValidatingAdmissionPolicyBinding: [{ metadata: { name: 'no-privileged' }, spec: { policyName: 'no-privileged', validationActions: ['Deny'] } }],
    }), 'cis-5.2.1');
    expect(f.map((x) => x.status)).toEqual(['warn']);
  });

  it('fails a namespace without NetworkPolicy, warns on allow-all or partial ones (kubescape passes any)', () => {
    const f = bad(judge({
      Namespace: [namespace('none'), namespace('denied'), namespace('allow-all'), namespace('partial')],
      NetworkPolicy: [
        networkPolicy('denied', 'default-deny'),
        networkPolicy('allow-all', 'everything', { podSelector: {}, ingress: [{}] }),
        networkPolicy('partial', 'db-only', { podSelector: { matchLabels: { app: 'db' } } }),
      ],
    }), 'cis-5.3.2');
    expect(f.map((x) => [(x.resource as { name: string }).name, x.status]).sort()).toEqual([['allow-all', 'warn'], ['none', 'fail'], ['partial', 'warn']]);
  });
});

describe('5.4.1 secrets in environment variables, joined with the agents\' view', () => {
  const objects: RawObjects = {
    Pod: [pod('shop', 'api', { containers: [{ name: 'api', image: 'api:1', env: [
      { name: 'DB_PASSWORD', value: 'literal-value-never-kept' },
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
      { name: 'LOG_LEVEL', value: 'debug' },
    ] }] }), pod('shop', 'worker', { containers: [{ name: 'worker', image: 'worker:1' }] })],
  };

  it('fails literal secret-looking values in the spec, warns on secretKeyRef, never keeps a value', () => {
    const f = bad(judge(objects), 'cis-5.4.1');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ status: 'fail', severity: 'high', resource: { kind: 'pod', namespace: 'shop', name: 'api', container: 'api' } });
    expect(f[0].evidence.value).toEqual({ fromSecret: ['API_TOKEN (Secret api)'], literalInSpec: ['DB_PASSWORD'], notInSpec: [] });
    expect(JSON.stringify(judge(objects))).not.toContain('literal-value-never-kept');
  });

  it('names a secret the running container has that no spec declares (from the image), as the agent saw it', () => {
    const nodes: NodeView = { secretEnv: new Map([['shop/worker', [{ node: 'worker-1', container: 'worker', names: ['STRIPE_API_KEY'], findingId: 'container-secret-env:1' }]]]) };
    const f = bad(judge(objects, nodes), 'cis-5.4.1').find((x) => (x.resource as { name: string }).name === 'worker')!;
    expect(f.status).toBe('fail');
    expect(f.title).toContain('STRIPE_API_KEY from the image or the runtime (seen on worker-1, not in the pod spec)');
    expect(f.evidence.source).toBe('kubernetes-api+agent');
  });
});

describe('5.7.x', () => {
  it('flags pods without seccomp or any securityContext, and objects in the default namespace', () => {
    const f = judge({
      Pod: [
        pod('default', 'stray'),
        pod('app', 'hardened', { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } }),
        pod('app', 'unconfined', { containers: [{ name: 'c', securityContext: { seccompProfile: { type: 'Unconfined' } } }] }),
        pod('app', 'caps-only', { securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'c', securityContext: { capabilities: { drop: ['ALL'] } } }] }),
        pod('app', 'no-pod-context', { containers: [{ name: 'c', securityContext: { capabilities: { drop: ['ALL'] } } }] }),
      ],
      ServiceAccount: [serviceAccount('default', 'default'), serviceAccount('default', 'leftover')],
    });
    expect(bad(f, 'cis-5.7.2').map((x) => [(x.resource as { name: string }).name, x.severity]).sort()).toEqual([['no-pod-context', 'medium'], ['stray', 'medium'], ['unconfined', 'high']]);
    expect(bad(f, 'cis-5.7.3').map((x) => (x.resource as { name: string }).name)).toEqual(['stray']);
    expect(bad(f, 'cis-5.7.4').map((x) => [x.resource.kind, (x.resource as { name: string }).name]).sort()).toEqual([['pod', 'stray'], ['serviceaccount', 'leftover']]);
  });
});
