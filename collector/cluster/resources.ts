// The collections the collector reads, each with its API path (the watch goes there) and its typed list call.
// Exactly these, and only get/list/watch on them, are what deploy/base grants the collector; Secrets are not
// among them (their names appear in pod specs and RBAC rules, which is all the checks need).
import {
  AdmissionregistrationV1Api, CoreV1Api, NetworkingV1Api, RbacAuthorizationV1Api, type KubeConfig,
} from '@kubernetes/client-node';
import type { ResourceKind } from './objects.js';

/** One page of a list: its items (model instances or plain objects) and where the next page starts. */
interface ListPage {
  items: unknown[];
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
}

export type ListCall = (page: { limit: number; _continue?: string }) => Promise<ListPage>;

export interface WatchedResource {
  kind: ResourceKind;
  /** API group (`''` for core) and plural resource name: what the collector's ClusterRole lists. */
  group: string;
  plural: string;
  /** Collection path across all namespaces; the watch is a GET on it with watch=true. */
  path: string;
  list: ListCall;
}

const RBAC = 'rbac.authorization.k8s.io';
const ADMISSION = 'admissionregistration.k8s.io';
const NETWORKING = 'networking.k8s.io';

/** The RBAC the collector needs: group, resources, verbs. deploy/base and the README say the same. */
export const WATCHED = [
  { kind: 'Namespace', group: '', plural: 'namespaces' },
  { kind: 'Pod', group: '', plural: 'pods' },
  { kind: 'ServiceAccount', group: '', plural: 'serviceaccounts' },
  { kind: 'Role', group: RBAC, plural: 'roles' },
  { kind: 'ClusterRole', group: RBAC, plural: 'clusterroles' },
  { kind: 'RoleBinding', group: RBAC, plural: 'rolebindings' },
  { kind: 'ClusterRoleBinding', group: RBAC, plural: 'clusterrolebindings' },
  { kind: 'NetworkPolicy', group: NETWORKING, plural: 'networkpolicies' },
  { kind: 'ValidatingAdmissionPolicy', group: ADMISSION, plural: 'validatingadmissionpolicies' },
  { kind: 'ValidatingAdmissionPolicyBinding', group: ADMISSION, plural: 'validatingadmissionpolicybindings' },
  { kind: 'ValidatingWebhookConfiguration', group: ADMISSION, plural: 'validatingwebhookconfigurations' },
  { kind: 'MutatingWebhookConfiguration', group: ADMISSION, plural: 'mutatingwebhookconfigurations' },
] as const satisfies ReadonlyArray<{ kind: ResourceKind; group: string; plural: string }>;

export const WATCH_VERBS = ['get', 'list', 'watch'] as const;

const pathOf = (group: string, plural: string): string => (group ? `/apis/${group}/v1/${plural}` : `/api/v1/${plural}`);

export function watchedResources(kc: KubeConfig): WatchedResource[] {
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const adm = kc.makeApiClient(AdmissionregistrationV1Api);
  const calls: Record<ResourceKind, ListCall> = {
    Namespace: (p) => core.listNamespace(p),
    Pod: (p) => core.listPodForAllNamespaces(p),
    ServiceAccount: (p) => core.listServiceAccountForAllNamespaces(p),
    Role: (p) => rbac.listRoleForAllNamespaces(p),
    ClusterRole: (p) => rbac.listClusterRole(p),
    RoleBinding: (p) => rbac.listRoleBindingForAllNamespaces(p),
    ClusterRoleBinding: (p) => rbac.listClusterRoleBinding(p),
    NetworkPolicy: (p) => net.listNetworkPolicyForAllNamespaces(p),
    ValidatingAdmissionPolicy: (p) => adm.listValidatingAdmissionPolicy(p),
    ValidatingAdmissionPolicyBinding: (p) => adm.listValidatingAdmissionPolicyBinding(p),
    ValidatingWebhookConfiguration: (p) => adm.listValidatingWebhookConfiguration(p),
    MutatingWebhookConfiguration: (p) => adm.listMutatingWebhookConfiguration(p),
  };
  return WATCHED.map(({ kind, group, plural }) => ({ kind, group, plural, path: pathOf(group, plural), list: calls[kind] }));
}
