// The collector's read access in deploy/: exactly the collections it watches, only get/list/watch, never Secrets,
// bound to its ServiceAccount in every overlay; and Vigil's own RBAC checks on the objects deploy/ creates.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateChecks, EMPTY_NODE_VIEW } from '../../../collector/cluster/checks/catalogue.js';
import { CLUSTER_CHECKS } from '../../../collector/cluster/checks/index.js';
import { WATCHED, WATCH_VERBS } from '../../../collector/cluster/resources.js';
import { capabilitiesOf } from '../../../collector/cluster/rbac/capabilities.js';
import { grantsFor, serviceAccountUser } from '../../../collector/cluster/rbac/resolve.js';
import { describeWithDaemons } from '../../harness/integration.js';
import { collectResources, DEPLOY, findObject, kubectlKustomize, KUBECTL, type K8sObject } from '../deploy/kustomize.js';
import { BOOTSTRAP, merge, snapshot, type RawObjects } from './fixtures.js';

const READER = 'vigil-collector-cluster-reader';

function checkReader(objects: K8sObject[]): void {
  const role = findObject(objects, 'ClusterRole', READER) as unknown as { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> };
  const granted = role.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`))).sort();
  expect(granted).toEqual(WATCHED.map((w) => `${w.group}/${w.plural}`).sort());
  for (const r of role.rules) {
    expect(r.verbs).toEqual([...WATCH_VERBS]);
    expect(r.resources).not.toContain('secrets');
    expect(r.resources).not.toContain('*');
  }
  const binding = findObject(objects, 'ClusterRoleBinding', READER) as unknown as { roleRef: { kind: string; name: string }; subjects: unknown[] };
  expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: READER });
  expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'vigil-collector', namespace: 'vigil' }]);
}

describe('the collector\'s read access (deploy/base)', () => {
  const objects = collectResources(join(DEPLOY, 'base')).map((r) => r.object);

  it('is get/list/watch on exactly the collections it watches, never Secrets', () => checkReader(objects));

  it('judged by Vigil\'s own checks: no escalation, only the named Secrets its certificates need', () => {
    const rbac: RawObjects = {};
    for (const o of objects) {
      if (['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ServiceAccount', 'Namespace'].includes(o.kind)) {
        const namespaced = ['Role', 'RoleBinding', 'ServiceAccount'].includes(o.kind);
        const copy = { ...o, metadata: { ...o.metadata, ...(namespaced ? { namespace: 'vigil' } : {}) } };
        (rbac[o.kind as keyof RawObjects] ??= []).push(copy as never);
      }
    }
    const s = snapshot(merge(BOOTSTRAP, rbac));
    const caps = capabilitiesOf(grantsFor(s, serviceAccountUser('vigil', 'vigil-collector')));
    expect(caps.map((c) => [c.capability, c.reach])).toEqual([['read-secrets', 'named'], ['read-secrets', 'named']]);
    const findings = evaluateChecks(CLUSTER_CHECKS, { snapshot: s, nodes: EMPTY_NODE_VIEW });
    const rbacFailures = findings.filter((f) => f.cis?.startsWith('5.1.') && f.status === 'fail');
    expect(rbacFailures).toEqual([]);
  });
});

describeWithDaemons('the collector\'s read access in the rendered overlays (kubectl kustomize)', { kubectl: KUBECTL }, () => {
  it.each(['single', 'ha'])('%s', (overlay) => checkReader(kubectlKustomize(join(DEPLOY, 'overlays', overlay))!));
});
