// RBAC resolution as the API server's authorizer decides it, on the cases kube-bench and kubescape get wrong
// (see /work/research/rbac-and-informers.md §4–5): aggregated ClusterRoles, rules limited by resourceNames,
// wildcards in apiGroups, subresources, bindings to system:serviceaccounts:NS and friends.
import { describe, expect, it } from 'vitest';
import { capabilitiesOf } from '../../../collector/cluster/rbac/capabilities.js';
import {
  allGrants, clusterRoleRules, grantReaches, grantsFor, resolutionProblems, serviceAccountUser,
} from '../../../collector/cluster/rbac/resolve.js';
import { ruleAllows, ruleReach, type ResourceRequest } from '../../../collector/cluster/rbac/rules.js';
import { selects } from '../../../collector/cluster/rbac/selectors.js';
import {
  clusterRole, clusterRoleBinding, group, merge, role, roleBinding, sa, snapshot, user, type RawObjects,
} from './fixtures.js';

const secretsGet: ResourceRequest = { verb: 'get', group: '', resource: 'secrets' };

/** Can this ServiceAccount do it, in this namespace (undefined: cluster-scoped or all namespaces)? */
function can(objects: RawObjects, who: [string, string], req: ResourceRequest, namespace?: string): boolean {
  const s = snapshot(objects);
  return grantsFor(s, serviceAccountUser(...who)).some((g) => grantReaches(g, namespace) && ruleAllows(g.rule, req));
}

describe('rule matching (RuleAllows)', () => {
  const r = (verbs: string[], resources: string[], apiGroups = [''], resourceNames: string[] = []) =>
    ({ verbs, resources, apiGroups, resourceNames, nonResourceURLs: [] });

  it('matches verbs exactly or by *, never as a comma list', () => {
    expect(ruleAllows(r(['get'], ['secrets']), secretsGet)).toBe(true);
    expect(ruleAllows(r(['*'], ['secrets']), secretsGet)).toBe(true);
    // kube-bench 5.1.2 asks `can-i get,list,watch`: one verb, which only * matches.
    expect(ruleAllows(r(['get'], ['secrets']), { ...secretsGet, verb: 'get,list,watch' })).toBe(false);
    expect(ruleAllows(r(['*'], ['secrets']), { ...secretsGet, verb: 'get,list,watch' })).toBe(true);
  });

  it('matches a wildcard API group, and the core group only as ""', () => {
    expect(ruleAllows(r(['get'], ['secrets'], ['*']), secretsGet)).toBe(true);
    expect(ruleAllows(r(['get'], ['secrets'], ['apps']), secretsGet)).toBe(false);
    expect(ruleAllows(r(['get'], ['deployments'], ['*']), { verb: 'get', group: 'apps', resource: 'deployments' })).toBe(true);
  });

  it('treats subresources as their own resources: pods does not cover pods/exec, * and */exec do', () => {
    const exec: ResourceRequest = { verb: 'create', group: '', resource: 'pods', subresource: 'exec' };
    expect(ruleAllows(r(['create'], ['pods']), exec)).toBe(false);
    expect(ruleAllows(r(['create'], ['pods/exec']), exec)).toBe(true);
    expect(ruleAllows(r(['create'], ['*/exec']), exec)).toBe(true);
    expect(ruleAllows(r(['create'], ['*']), exec)).toBe(true);
    expect(ruleAllows(r(['create'], ['pods/*']), exec)).toBe(false);
  });

  it('limits a resourceNames rule to those names: not full access, and no list or watch', () => {
    const named = r(['get', 'list', 'watch'], ['secrets'], [''], ['app-tls']);
    expect(ruleAllows(named, { ...secretsGet, name: 'app-tls' })).toBe(true);
    expect(ruleAllows(named, { ...secretsGet, name: 'db-password' })).toBe(false);
    expect(ruleAllows(named, { verb: 'list', group: '', resource: 'secrets' })).toBe(false);
    expect(ruleReach(named, secretsGet)).toBe('named');
    expect(ruleReach(r(['get'], ['secrets']), secretsGet)).toBe('all');
  });

  it('evaluates label selectors with matchLabels and matchExpressions', () => {
    const sel = (matchLabels: Record<string, string>, matchExpressions: Array<{ key: string; operator: string; values?: string[] }> = []) =>
      ({ matchLabels, matchExpressions: matchExpressions.map((e) => ({ values: [], ...e })) });
    expect(selects(sel({}), { a: '1' })).toBe(true);
    expect(selects(sel({ a: '1' }), { a: '1', b: '2' })).toBe(true);
    expect(selects(sel({ a: '1' }), { a: '2' })).toBe(false);
    expect(selects(sel({}, [{ key: 'a', operator: 'In', values: ['1', '2'] }]), { a: '2' })).toBe(true);
    expect(selects(sel({}, [{ key: 'a', operator: 'NotIn', values: ['1'] }]), {})).toBe(true);
    expect(selects(sel({}, [{ key: 'a', operator: 'Exists' }]), {})).toBe(false);
    expect(selects(sel({}, [{ key: 'a', operator: 'DoesNotExist' }]), {})).toBe(true);
    expect(selects(sel({}, [{ key: 'a', operator: 'Bogus' }]), { a: '1' })).toBe(false);
  });
});

describe('aggregated ClusterRoles', () => {
  const aggregate = { 'rbac.example.com/aggregate-to-monitoring': 'true' };
  const objects: RawObjects = {
    ClusterRole: [
      // As the aggregation controller has not written it yet: no stored rules at all.
      clusterRole('monitoring', [], { aggregate: [aggregate] }),
      clusterRole('monitoring-secrets', [{ verbs: ['get', 'list'], resources: ['secrets'] }], { labels: aggregate }),
      clusterRole('monitoring-pods', [{ verbs: ['list'], resources: ['pods'] }], { labels: aggregate }),
      clusterRole('unrelated', [{ verbs: ['delete'], resources: ['nodes'] }]),
    ],
    ClusterRoleBinding: [clusterRoleBinding('monitoring', 'monitoring', [sa('mon', 'prometheus')])],
  };

  it('resolves the rules from the selectors, not only from what the controller wrote', () => {
    const rules = clusterRoleRules(snapshot(objects), 'monitoring')!;
    expect(rules.map((r) => r.aggregatedFrom).sort()).toEqual(['monitoring-pods', 'monitoring-secrets']);
    expect(rules.every((r) => r.pending)).toBe(true);
    expect(can(objects, ['mon', 'prometheus'], secretsGet, 'any')).toBe(true);
    expect(can(objects, ['mon', 'prometheus'], { verb: 'delete', group: '', resource: 'nodes' })).toBe(false);
  });

  it('keeps the stored rules too (what the API server enforces now) and marks selected ones as not pending', () => {
    const stored = merge(objects, {});
    stored.ClusterRole![0] = clusterRole('monitoring', [{ verbs: ['list'], resources: ['pods'] }, { verbs: ['*'], resources: ['configmaps'] }], { aggregate: [aggregate] });
    const rules = clusterRoleRules(snapshot(stored), 'monitoring')!;
    expect(rules.find((r) => r.aggregatedFrom === 'monitoring-pods')?.pending).toBeUndefined();
    expect(rules.find((r) => r.aggregatedFrom === 'monitoring-secrets')?.pending).toBe(true);
    // A stored rule no selected role declares (a hand edit the controller will overwrite) is still enforced now.
    const edited = rules.find((r) => r.rule.resources.includes('configmaps'))!;
    expect(edited).toBeDefined();
    expect(edited.aggregatedFrom).toBeUndefined();
  });

  it('follows nested aggregation and survives selector cycles', () => {
    const nested: RawObjects = {
      ClusterRole: [
        clusterRole('top', [], { aggregate: [{ tier: 'mid' }] }),
        clusterRole('mid', [], { labels: { tier: 'mid' }, aggregate: [{ tier: 'leaf' }] }),
        clusterRole('leaf', [{ verbs: ['create'], resources: ['pods'] }], { labels: { tier: 'leaf' } }),
        clusterRole('loop-a', [{ verbs: ['get'], resources: ['a'] }], { labels: { loop: 'a' }, aggregate: [{ loop: 'b' }] }),
        clusterRole('loop-b', [{ verbs: ['get'], resources: ['b'] }], { labels: { loop: 'b' }, aggregate: [{ loop: 'a' }] }),
      ],
    };
    const s = snapshot(nested);
    expect(clusterRoleRules(s, 'top')!.map((r) => [r.rule.resources, r.aggregatedFrom])).toEqual([[['pods'], 'leaf']]);
    expect(clusterRoleRules(s, 'loop-a')!.flatMap((r) => r.rule.resources).sort()).toEqual(['a', 'b']);
  });
});

describe('which bindings apply to a ServiceAccount', () => {
  const readSecrets = clusterRole('read-secrets', [{ verbs: ['get'], resources: ['secrets'] }]);

  it('applies a RoleBinding to a ClusterRole only in the RoleBinding\'s namespace', () => {
    const o: RawObjects = {
      ClusterRole: [readSecrets],
      RoleBinding: [roleBinding('team-a', 'rb', { kind: 'ClusterRole', name: 'read-secrets' }, [sa('team-a', 'app')])],
    };
    expect(can(o, ['team-a', 'app'], secretsGet, 'team-a')).toBe(true);
    expect(can(o, ['team-a', 'app'], secretsGet, 'team-b')).toBe(false);
    expect(can(o, ['team-a', 'app'], secretsGet)).toBe(false);
  });

  it('applies bindings to system:serviceaccounts:NS to every ServiceAccount of NS, and only those', () => {
    const o: RawObjects = { ClusterRole: [readSecrets], ClusterRoleBinding: [clusterRoleBinding('ns-wide', 'read-secrets', [group('system:serviceaccounts:ci')])] };
    expect(can(o, ['ci', 'runner'], secretsGet, 'prod')).toBe(true);
    expect(can(o, ['ci', 'other'], secretsGet, 'prod')).toBe(true);
    expect(can(o, ['prod', 'app'], secretsGet, 'prod')).toBe(false);
  });

  it('applies bindings to system:serviceaccounts and system:authenticated to every ServiceAccount', () => {
    for (const g of ['system:serviceaccounts', 'system:authenticated']) {
      const o: RawObjects = { ClusterRole: [readSecrets], ClusterRoleBinding: [clusterRoleBinding('all', 'read-secrets', [group(g)])] };
      expect(can(o, ['anything', 'anyone'], secretsGet, 'x'), g).toBe(true);
    }
    const unauth: RawObjects = { ClusterRole: [readSecrets], ClusterRoleBinding: [clusterRoleBinding('anon', 'read-secrets', [group('system:unauthenticated')])] };
    expect(can(unauth, ['a', 'b'], secretsGet, 'x')).toBe(false);
  });

  it('gives a ServiceAccount subject without namespace its RoleBinding\'s namespace, and in a ClusterRoleBinding nothing', () => {
    const o: RawObjects = {
      ClusterRole: [readSecrets],
      RoleBinding: [roleBinding('team-a', 'rb', { kind: 'ClusterRole', name: 'read-secrets' }, [{ kind: 'ServiceAccount', name: 'app' }])],
      ClusterRoleBinding: [clusterRoleBinding('crb', 'read-secrets', [{ kind: 'ServiceAccount', name: 'app' }])],
    };
    expect(can(o, ['team-a', 'app'], secretsGet, 'team-a')).toBe(true);
    expect(can(o, ['team-b', 'app'], secretsGet, 'team-b')).toBe(false);
  });

  it('matches a User subject named system:serviceaccount:NS:NAME to that ServiceAccount', () => {
    const o: RawObjects = { ClusterRole: [readSecrets], ClusterRoleBinding: [clusterRoleBinding('u', 'read-secrets', [user('system:serviceaccount:ci:runner')])] };
    expect(can(o, ['ci', 'runner'], secretsGet, 'x')).toBe(true);
  });

  it('looks a RoleBinding\'s Role up in its own namespace and reports bindings to missing roles', () => {
    const o: RawObjects = {
      Role: [role('team-a', 'pods', [{ verbs: ['create'], resources: ['pods'] }])],
      RoleBinding: [
        roleBinding('team-a', 'ok', { kind: 'Role', name: 'pods' }, [sa('team-a', 'app')]),
        roleBinding('team-b', 'wrong-ns', { kind: 'Role', name: 'pods' }, [sa('team-b', 'app')]),
      ],
    };
    expect(can(o, ['team-a', 'app'], { verb: 'create', group: '', resource: 'pods' }, 'team-a')).toBe(true);
    expect(can(o, ['team-b', 'app'], { verb: 'create', group: '', resource: 'pods' }, 'team-b')).toBe(false);
    expect(resolutionProblems(snapshot(o)).map((p) => p.message)).toEqual(['roleRef Role team-b/pods does not exist: the binding grants nothing']);
  });
});

describe('capabilities', () => {
  it('names escalation paths: bind, escalate, impersonate (uids and userextras too), secrets, pod creation', () => {
    const s = snapshot({
      ClusterRole: [
        clusterRole('binder', [{ verbs: ['bind'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['view'] }]),
        clusterRole('uids', [{ verbs: ['impersonate'], apiGroups: ['authentication.k8s.io'], resources: ['uids'] }]),
        clusterRole('wild', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
      ],
      ClusterRoleBinding: [
        clusterRoleBinding('b', 'binder', [sa('x', 'a')]),
        clusterRoleBinding('u', 'uids', [sa('x', 'a')]),
        clusterRoleBinding('w', 'wild', [sa('x', 'b')]),
      ],
    });
    const a = capabilitiesOf(grantsFor(s, serviceAccountUser('x', 'a')));
    expect(a.map((c) => [c.capability, c.reach])).toEqual([['bind', 'named'], ['impersonate', 'all']]);
    const b = capabilitiesOf(grantsFor(s, serviceAccountUser('x', 'b'))).map((c) => c.capability);
    expect(b).toEqual(['read-secrets', 'create-pods', 'create-workloads', 'exec-pods', 'bind', 'escalate', 'impersonate', 'create-tokens']);
    expect(allGrants(s)).toHaveLength(3);
  });
});
