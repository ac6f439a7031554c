// API objects written as the API server sends them (plain JSON), turned into a model snapshot the way the
// reflectors do (through the same converters).
import { snapshotOf, type ClusterSnapshot } from '../../../collector/cluster/model.js';
import { convert, RESOURCE_KINDS, type ObjectsByKind, type ResourceKind } from '../../../collector/cluster/objects.js';

type Raw = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string } };
export type RawObjects = Partial<Record<ResourceKind, Raw[]>>;

export function snapshot(raw: RawObjects, version = 1): ClusterSnapshot {
  const typed: Partial<{ [K in ResourceKind]: ObjectsByKind[K][] }> = {};
  for (const kind of RESOURCE_KINDS) {
    typed[kind] = (raw[kind] ?? []).map((o) => {
      const c = convert(kind, o);
      if (!c.ok) throw new Error(`fixture ${kind} ${o.metadata.name}: ${c.reason}`);
      return c.object;
    }) as never;
  }
  return snapshotOf(typed, version);
}

interface RuleSpec { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
const rule = (r: RuleSpec) => ({ apiGroups: [''], ...r });

export const clusterRole = (name: string, rules: RuleSpec[], extra: { labels?: Record<string, string>; aggregate?: Array<Record<string, string>> } = {}): Raw => ({
  metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
  rules: rules.map(rule),
  ...(extra.aggregate ? { aggregationRule: { clusterRoleSelectors: extra.aggregate.map((matchLabels) => ({ matchLabels })) } } : {}),
});

export const role = (namespace: string, name: string, rules: RuleSpec[]): Raw => ({ metadata: { name, namespace }, rules: rules.map(rule) });

type SubjectSpec = { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace?: string };

export const sa = (namespace: string, name: string): SubjectSpec => ({ kind: 'ServiceAccount', name, namespace });
export const group = (name: string): SubjectSpec => ({ kind: 'Group', name });
export const user = (name: string): SubjectSpec => ({ kind: 'User', name });

export const clusterRoleBinding = (name: string, roleName: string, subjects: SubjectSpec[], labels?: Record<string, string>): Raw => ({
  metadata: { name, ...(labels ? { labels } : {}) },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects,
});

export const roleBinding = (namespace: string, name: string, roleRef: { kind: 'Role' | 'ClusterRole'; name: string }, subjects: SubjectSpec[]): Raw => ({
  metadata: { name, namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
  subjects,
});

export const namespace = (name: string, labels: Record<string, string> = {}): Raw => ({ metadata: { name, labels } });

export const serviceAccount = (namespace: string, name: string, automount?: boolean): Raw => ({
  metadata: { name, namespace },
  ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
});

interface PodSpec {
  serviceAccountName?: string;
  nodeName?: string;
  containers?: Array<Record<string, unknown> & { name: string }>;
  automountServiceAccountToken?: boolean;
  token?: boolean;
  securityContext?: Record<string, unknown>;
  hostNetwork?: boolean;
  phase?: string;
}

export const pod = (namespace: string, name: string, spec: PodSpec = {}): Raw => ({
  metadata: { name, namespace },
  spec: {
    serviceAccountName: spec.serviceAccountName ?? 'default',
    ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
    ...(spec.automountServiceAccountToken === undefined ? {} : { automountServiceAccountToken: spec.automountServiceAccountToken }),
    ...(spec.securityContext ? { securityContext: spec.securityContext } : {}),
    ...(spec.hostNetwork ? { hostNetwork: true } : {}),
    containers: spec.containers ?? [{ name: 'app', image: 'app:1' }],
    volumes: spec.token === false ? [] : [{ name: 'kube-api-access-x', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
  },
  status: { phase: spec.phase ?? 'Running' },
});

export const networkPolicy = (namespace: string, name: string, spec: Record<string, unknown> = { podSelector: {}, policyTypes: ['Ingress'] }): Raw => ({
  metadata: { name, namespace },
  spec,
});

/** What the API server's bootstrap policy creates: cluster-admin bound to system:masters, labelled rbac-defaults. */
export const BOOTSTRAP: RawObjects = {
  ClusterRole: [
    clusterRole('cluster-admin', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }],
      { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }),
    clusterRole('system:controller:namespace-controller', [{ verbs: ['get', 'list', 'delete'], apiGroups: ['*'], resources: ['*'] }],
      { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }),
  ],
  ClusterRoleBinding: [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [group('system:masters')], { 'kubernetes.io/bootstrapping': 'rbac-defaults' }),
    clusterRoleBinding('system:controller:namespace-controller', 'system:controller:namespace-controller',
      [sa('kube-system', 'namespace-controller')], { 'kubernetes.io/bootstrapping': 'rbac-defaults' }),
  ],
};

/** Concatenates object lists per kind. */
export function merge(...parts: RawObjects[]): RawObjects {
  const out: RawObjects = {};
  for (const p of parts) for (const [k, list] of Object.entries(p)) out[k as ResourceKind] = [...(out[k as ResourceKind] ?? []), ...(list ?? [])];
  return out;
}
