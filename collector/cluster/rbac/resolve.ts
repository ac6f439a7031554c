// Who may do what, resolved over one snapshot of the model the way the API server's RBAC authorizer does
// (pkg/registry/rbac/validation/rule.go VisitRulesFor): every ClusterRoleBinding applies cluster-wide, a
// RoleBinding only in its own namespace (also when it references a ClusterRole), a ServiceAccount user carries
// the groups system:serviceaccounts, system:serviceaccounts:<ns> and system:authenticated. Aggregated
// ClusterRoles are resolved from their aggregationRule selectors as well as read from their stored rules: the
// stored rules are what the API server enforces now, the selected ones what the aggregation controller will
// write (so a rule is never missed while the controller lags, and a hand-edited aggregate is seen for what it
// will become).
import type { BindingObject, ClusterRoleObject, PolicyRule, Subject } from '../objects.js';
import type { ClusterSnapshot } from '../model.js';
import { selects } from './selectors.js';

interface UserInfo {
  name: string;
  groups: string[];
}

const SERVICE_ACCOUNT_GROUPS = 'system:serviceaccounts';
export const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';

/** The user a ServiceAccount token authenticates as (serviceaccount.UserInfo plus AuthenticatedGroupAdder). */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: [SERVICE_ACCOUNT_GROUPS, `${SERVICE_ACCOUNT_GROUPS}:${namespace}`, AUTHENTICATED],
  };
}

export interface ObjectRef {
  kind: string;
  name: string;
  namespace?: string;
}

/** One rule of a role, and where it comes from. */
interface SourcedRule {
  rule: PolicyRule;
  /** For an aggregated ClusterRole: the ClusterRole that declares the rule. */
  aggregatedFrom?: string;
  /** Selected by the aggregationRule but not (yet) in the stored rules: the controller has not written it. */
  pending?: boolean;
}

/** A rule a subject holds through a binding. */
export interface Grant {
  rule: PolicyRule;
  /** `*`: every namespace and the cluster-scoped resources (a ClusterRoleBinding); otherwise one namespace. */
  scope: string;
  binding: ObjectRef;
  role: ObjectRef;
  /** The binding's subject that matched (a group the user is in, the ServiceAccount itself, ...). */
  subject: Subject;
  aggregatedFrom?: string;
  pending?: boolean;
}

/** A binding whose role does not exist: it grants nothing (RBAC never denies), but it is worth knowing. */
interface ResolutionProblem {
  binding: ObjectRef;
  message: string;
}

const sameRule = (a: PolicyRule, b: PolicyRule): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Per-snapshot indexes, built once. */
interface Index {
  clusterRoleRules: Map<string, SourcedRule[]>;
  grants: Grant[];
  problems: ResolutionProblem[];
  /** Grants by the matching key of their subject: `User:<name>`, `Group:<name>`, `ServiceAccount:<ns>/<name>`. */
  bySubject: Map<string, Grant[]>;
}

const indexes = new WeakMap<ClusterSnapshot, Index>();

function resolveClusterRoles(roles: ReadonlyMap<string, ClusterRoleObject>): Map<string, SourcedRule[]> {
  const out = new Map<string, SourcedRule[]>();
  const sorted = [...roles.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const resolving = new Set<string>();

  const rulesOf = (role: ClusterRoleObject): SourcedRule[] => {
    const name = role.metadata.name;
    const done = out.get(name);
    if (done) return done;
    const stored: SourcedRule[] = role.rules.map((rule) => ({ rule }));
    if (!role.aggregationRule || resolving.has(name)) return stored;
    resolving.add(name);
    // What the aggregation controller would write: every selected role's rules, selectors ORed, sorted by name.
    const selected: SourcedRule[] = [];
    for (const other of sorted) {
      if (other.metadata.name === name) continue;
      if (!role.aggregationRule.clusterRoleSelectors.some((s) => selects(s, other.metadata.labels))) continue;
      for (const r of rulesOf(other)) {
        if (selected.some((s) => sameRule(s.rule, r.rule))) continue;
        selected.push({ rule: r.rule, aggregatedFrom: r.aggregatedFrom ?? other.metadata.name });
      }
    }
    resolving.delete(name);
    const merged: SourcedRule[] = selected.map((s) => (stored.some((t) => sameRule(t.rule, s.rule)) ? s : { ...s, pending: true }));
    for (const s of stored) if (!selected.some((t) => sameRule(t.rule, s.rule))) merged.push(s);
    out.set(name, merged);
    return merged;
  };

  for (const role of sorted) out.set(role.metadata.name, rulesOf(role));
  return out;
}

/** The key a subject is found by; a ServiceAccount subject without a namespace takes its binding's (none: never matches). */
function subjectKey(subject: Subject, bindingNamespace: string | undefined): string | undefined {
  switch (subject.kind) {
    case 'User': return `User:${subject.name}`;
    case 'Group': return `Group:${subject.name}`;
    case 'ServiceAccount': {
      const ns = subject.namespace ?? bindingNamespace;
      return ns ? `ServiceAccount:${ns}/${subject.name}` : undefined;
    }
    default: return undefined;
  }
}

function buildIndex(snapshot: ClusterSnapshot): Index {
  const clusterRoleRules = resolveClusterRoles(snapshot.objects.ClusterRole);
  const grants: Grant[] = [];
  const problems: ResolutionProblem[] = [];
  const bySubject = new Map<string, Grant[]>();

  const add = (binding: BindingObject, bindingKind: 'RoleBinding' | 'ClusterRoleBinding'): void => {
    const ns = bindingKind === 'RoleBinding' ? binding.metadata.namespace : undefined;
    const bindingRef: ObjectRef = { kind: bindingKind, name: binding.metadata.name, ...(ns ? { namespace: ns } : {}) };
    const { kind, name } = binding.roleRef;
    let rules: SourcedRule[] | undefined;
    let role: ObjectRef;
    if (kind === 'ClusterRole') {
      rules = clusterRoleRules.get(name);
      role = { kind, name };
    } else if (kind === 'Role' && ns) {
      rules = snapshot.objects.Role.get(`${ns}/${name}`)?.rules.map((rule) => ({ rule }));
      role = { kind, name, namespace: ns };
    } else {
      problems.push({ binding: bindingRef, message: `roleRef kind ${kind} is not valid here` });
      return;
    }
    if (!rules) {
      problems.push({ binding: bindingRef, message: `roleRef ${kind} ${role.namespace ? `${role.namespace}/` : ''}${name} does not exist: the binding grants nothing` });
      return;
    }
    for (const subject of binding.subjects) {
      const key = subjectKey(subject, ns);
      if (!key) continue;
      for (const r of rules) {
        const grant: Grant = { rule: r.rule, scope: ns ?? '*', binding: bindingRef, role, subject };
        if (r.aggregatedFrom) grant.aggregatedFrom = r.aggregatedFrom;
        if (r.pending) grant.pending = true;
        grants.push(grant);
        let list = bySubject.get(key);
        if (!list) bySubject.set(key, (list = []));
        list.push(grant);
      }
    }
  };
  for (const b of snapshot.objects.ClusterRoleBinding.values()) add(b, 'ClusterRoleBinding');
  for (const b of snapshot.objects.RoleBinding.values()) add(b, 'RoleBinding');
  return { clusterRoleRules, grants, problems, bySubject };
}

function index(snapshot: ClusterSnapshot): Index {
  let idx = indexes.get(snapshot);
  if (!idx) indexes.set(snapshot, (idx = buildIndex(snapshot)));
  return idx;
}

/** A ClusterRole's effective rules (aggregation resolved); undefined when it does not exist. */
export function clusterRoleRules(snapshot: ClusterSnapshot, name: string): SourcedRule[] | undefined {
  return index(snapshot).clusterRoleRules.get(name);
}

/** Every (binding, subject, rule) in the cluster. */
export function allGrants(snapshot: ClusterSnapshot): readonly Grant[] {
  return index(snapshot).grants;
}

export function resolutionProblems(snapshot: ClusterSnapshot): readonly ResolutionProblem[] {
  return index(snapshot).problems;
}

/** Every rule that applies to a user: through its name, each of its groups, and (for a ServiceAccount) itself. */
export function grantsFor(snapshot: ClusterSnapshot, user: UserInfo): Grant[] {
  const { bySubject } = index(snapshot);
  const keys = [`User:${user.name}`, ...user.groups.map((g) => `Group:${g}`)];
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user.name);
  if (sa) keys.push(`ServiceAccount:${sa[1]}/${sa[2]}`);
  return keys.flatMap((k) => bySubject.get(k) ?? []);
}

/** Does a grant reach a request in `namespace` (undefined: cluster-scoped, or across all namespaces)? */
export const grantReaches = (grant: Grant, namespace: string | undefined): boolean =>
  grant.scope === '*' || (namespace !== undefined && grant.scope === namespace);

/** Who a binding subject stands for, in words: groups that every ServiceAccount or user is in say so. */
export function subjectText(subject: Subject): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount ${subject.namespace ?? '?'}/${subject.name}`;
  if (subject.kind === 'Group') {
    if (subject.name === AUTHENTICATED) return 'Group system:authenticated (every authenticated user and ServiceAccount)';
    if (subject.name === UNAUTHENTICATED) return 'Group system:unauthenticated (anonymous requests)';
    if (subject.name === SERVICE_ACCOUNT_GROUPS) return 'Group system:serviceaccounts (every ServiceAccount)';
    if (subject.name.startsWith(`${SERVICE_ACCOUNT_GROUPS}:`)) {
      return `Group ${subject.name} (every ServiceAccount in ${subject.name.slice(SERVICE_ACCOUNT_GROUPS.length + 1)})`;
    }
  }
  return `${subject.kind} ${subject.name}`;
}

/** Groups whose members are everyone, or every ServiceAccount: one binding to them reaches very many subjects. */
export const isBroadGroup = (subject: Subject): boolean =>
  subject.kind === 'Group' && (subject.name === AUTHENTICATED || subject.name === UNAUTHENTICATED
    || subject.name === SERVICE_ACCOUNT_GROUPS || subject.name.startsWith(`${SERVICE_ACCOUNT_GROUPS}:`));

export const refText = (ref: ObjectRef): string => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
