// CIS 5.1: RBAC and ServiceAccounts, judged on the resolved permissions of every binding subject (aggregated
// ClusterRoles expanded, resourceNames honoured, subresources and wildcards matched as the authorizer does).
// Grants the API server makes to its own components (bootstrap bindings labelled
// kubernetes.io/bootstrapping=rbac-defaults to system: subjects or kube-system ServiceAccounts) are not judged.
import type { Severity } from '../../../proto/report.js';
import type { ClusterSnapshot } from '../model.js';
import type { BindingObject, ObjectMeta, PolicyRule, Subject } from '../objects.js';
import { CAPABILITIES, capabilityReach, type Capability } from '../rbac/capabilities.js';
import {
  allGrants, isBroadGroup, refText, subjectText, type Grant, type ObjectRef,
} from '../rbac/resolve.js';
import { isSuperuserRule, ruleText, wildcardsIn } from '../rbac/rules.js';
import { API_SOURCE, apiResource, clusterFindingId, nothingFound, type ClusterCheck, type Verdict } from './catalogue.js';

const RBAC_KINDS = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'] as const;
const BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';

const isBootstrap = (meta: ObjectMeta): boolean => meta.labels[BOOTSTRAP_LABEL] === 'rbac-defaults';

const isSystemSubject = (s: Subject): boolean =>
  s.name.startsWith('system:') || (s.kind === 'ServiceAccount' && s.namespace === 'kube-system');

function bindingOf(snapshot: ClusterSnapshot, ref: ObjectRef): BindingObject | undefined {
  return ref.kind === 'ClusterRoleBinding'
    ? snapshot.objects.ClusterRoleBinding.get(ref.name)
    : snapshot.objects.RoleBinding.get(`${ref.namespace}/${ref.name}`);
}

/** A grant the API server's bootstrap policy makes to one of its own components. */
export function isBuiltInGrant(snapshot: ClusterSnapshot, grant: Grant): boolean {
  const binding = bindingOf(snapshot, grant.binding);
  return binding !== undefined && isBootstrap(binding.metadata) && isSystemSubject(grant.subject);
}

const subjectKey = (s: Subject): string => `${s.kind}:${s.namespace ?? ''}/${s.name}`;
const shortSubject = (s: Subject): string => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`;

/** Grants of one subject through one binding. */
interface SubjectBinding {
  subject: Subject;
  binding: ObjectRef;
  role: ObjectRef;
  scope: string;
  grants: Grant[];
}

function bySubjectBinding(grants: readonly Grant[]): SubjectBinding[] {
  const out = new Map<string, SubjectBinding>();
  for (const g of grants) {
    const key = `${refText(g.binding)}|${subjectKey(g.subject)}`;
    let entry = out.get(key);
    if (!entry) out.set(key, (entry = { subject: g.subject, binding: g.binding, role: g.role, scope: g.scope, grants: [] }));
    entry.grants.push(g);
  }
  return [...out.values()];
}

const bindingResource = (b: ObjectRef, subject: Subject) =>
  apiResource(b.kind === 'ClusterRoleBinding' ? 'clusterrolebinding' : 'rolebinding', b, { subject: shortSubject(subject) });

/** The id of the finding a row reports for one grant's subject and binding (correlations point at it). */
export const grantFindingId = (checkId: string, g: Grant): string =>
  clusterFindingId(checkId, bindingResource(g.binding, g.subject), subjectKey(g.subject));

const where = (scope: string): string => (scope === '*' ? 'in every namespace' : `in namespace ${scope}`);

/** The evidence every RBAC finding carries: who, through which binding and role, by which rules. */
function grantEvidence(sb: SubjectBinding, rules: readonly Grant[], expected: string, detail?: string) {
  const aggregated = [...new Set(rules.map((g) => g.aggregatedFrom).filter((x): x is string => x !== undefined))];
  return {
    source: API_SOURCE,
    key: 'rules',
    value: {
      subject: subjectText(sb.subject),
      binding: refText(sb.binding),
      role: refText(sb.role),
      scope: sb.scope === '*' ? 'cluster-wide' : `namespace ${sb.scope}`,
      rules: [...new Set(rules.map((g) => ruleText(g.rule)))],
      ...(aggregated.length ? { aggregatedFrom: aggregated } : {}),
    },
    expected,
    ...(detail ? { detail } : {}),
  };
}

function severityFor(sb: SubjectBinding, reach: 'all' | 'named', base: { cluster: Severity; namespace: Severity }): Severity {
  if (reach === 'named') return 'low';
  if (isBroadGroup(sb.subject)) return 'critical';
  return sb.scope === '*' ? base.cluster : base.namespace;
}

interface CapabilityRow {
  id: string;
  cis: string;
  title: string;
  remediation: string;
  capabilities: Capability[];
  severity: { cluster: Severity; namespace: Severity };
  differs: string;
}

/** A row that reports every subject holding one of some capabilities, per binding. */
function capabilityCheck(row: CapabilityRow): ClusterCheck {
  return {
    id: row.id, cis: row.cis, title: row.title, severity: row.severity.cluster, component: 'rbac',
    remediation: row.remediation, reads: RBAC_KINDS, differs: row.differs,
    judge({ snapshot }) {
      const verdicts: Verdict[] = [];
      let builtIn = 0;
      for (const sb of bySubjectBinding(allGrants(snapshot))) {
        const hits: Array<{ g: Grant; capability: Capability; reach: 'all' | 'named' }> = [];
        for (const g of sb.grants) {
          for (const capability of row.capabilities) {
            const reach = capabilityReach(g.rule, capability);
            if (reach !== 'none') hits.push({ g, capability, reach });
          }
        }
        if (hits.length === 0) continue;
        if (isBuiltInGrant(snapshot, sb.grants[0])) { builtIn++; continue; }
        const reach = hits.some((h) => h.reach === 'all') ? 'all' : 'named';
        const caps = [...new Set(hits.filter((h) => h.reach === reach).map((h) => h.capability))];
        const names = reach === 'named' ? [...new Set(hits.flatMap((h) => h.g.rule.resourceNames))] : [];
        const what = caps.map((c) => CAPABILITIES[c].text).join(', ');
        verdicts.push({
          status: reach === 'all' ? 'fail' : 'warn',
          severity: severityFor(sb, reach, row.severity),
          resource: bindingResource(sb.binding, sb.subject),
          discriminator: subjectKey(sb.subject),
          title: `${subjectText(sb.subject)} can ${what} ${where(sb.scope)}${reach === 'named' ? ` (only ${names.join(', ')})` : ''}, through ${refText(sb.binding)} → ${refText(sb.role)}`,
          evidence: grantEvidence(sb, [...new Set(hits.map((h) => h.g))], `no ${caps.join('/')} for this subject`,
            reach === 'named' ? 'restricted by resourceNames to the objects named: not full access, and never list or watch' : undefined),
        });
      }
      if (verdicts.length === 0) {
        verdicts.push(nothingFound(`no binding grants ${row.capabilities.map((c) => CAPABILITIES[c].text).join(' or ')}`
          + (builtIn ? ` beyond the API server's ${builtIn} built-in grant(s) to its own components` : '')));
      }
      return verdicts;
    },
  };
}

const KUBEADM_ADMINS = 'kubeadm:cluster-admins';

const clusterAdminUse: ClusterCheck = {
  id: 'cis-5.1.1', cis: '5.1.1', severity: 'high', component: 'rbac', reads: RBAC_KINDS,
  title: 'The cluster-admin role is only used where required',
  remediation: 'Bind a role with only the permissions needed (kubectl create role/clusterrole ...), then delete the binding to cluster-admin (or to another role that holds * on *.*).',
  differs: 'kube-bench flags every ClusterRoleBinding to cluster-admin not itself named cluster-admin (so every kubeadm cluster, for kubeadm:cluster-admins) and misses roles that hold * on * under another name, or RoleBindings to cluster-admin. Vigil judges every binding whose resolved rules hold every verb on every resource, names the subject, and reports kubeadm\'s admin.conf group as a warning.',
  judge({ snapshot }) {
    const verdicts: Verdict[] = [];
    for (const sb of bySubjectBinding(allGrants(snapshot))) {
      const admin = sb.grants.filter((g) => isSuperuserRule(g.rule));
      if (admin.length === 0 || isBuiltInGrant(snapshot, sb.grants[0])) continue;
      const kubeadm = sb.binding.name === KUBEADM_ADMINS && sb.subject.kind === 'Group' && sb.subject.name === KUBEADM_ADMINS;
      verdicts.push({
        status: kubeadm ? 'warn' : 'fail',
        severity: kubeadm ? 'low' : isBroadGroup(sb.subject) ? 'critical' : sb.scope === '*' ? 'high' : 'medium',
        resource: bindingResource(sb.binding, sb.subject),
        discriminator: subjectKey(sb.subject),
        title: `${subjectText(sb.subject)} holds every permission ${where(sb.scope)} through ${refText(sb.binding)} → ${refText(sb.role)}`,
        evidence: grantEvidence(sb, admin, 'no * verbs on * resources in * groups',
          kubeadm ? "kubeadm's group for /etc/kubernetes/admin.conf: expected on kubeadm clusters; keep that file off shared machines" : undefined),
      });
    }
    if (verdicts.length === 0) verdicts.push(nothingFound('only the built-in cluster-admin binding (group system:masters) holds every permission'));
    return verdicts;
  },
};

const secretsAccess = capabilityCheck({
  id: 'cis-5.1.2', cis: '5.1.2', capabilities: ['read-secrets'], severity: { cluster: 'high', namespace: 'medium' },
  title: 'Access to Secrets is minimized',
  remediation: 'Remove get, list and watch on secrets from roles that do not need them; where one Secret is needed, name it in resourceNames.',
  differs: 'kube-bench asks `kubectl auth can-i get,list,watch secrets --as=system:authenticated`: one verb named "get,list,watch", which only a * verb matches, and only for one group. kubescape ignores resourceNames. Vigil judges every subject, each verb, and reports name-restricted rules as warnings that name the Secrets.',
});

const wildcardUse: ClusterCheck = {
  id: 'cis-5.1.3', cis: '5.1.3', severity: 'medium', component: 'rbac', reads: ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
  title: 'Roles and ClusterRoles use no wildcards',
  remediation: 'Replace * in verbs, apiGroups and resources with the explicit lists the workload needs.',
  differs: "kubescape flags only rules with * in verbs, resources and apiGroups at once; kube-bench flags the built-in cluster-admin on every cluster. Vigil flags any *, skips the API server's built-in roles, judges an aggregated ClusterRole's rules where they are declared, and lowers the severity of roles no binding uses.",
  judge({ snapshot }) {
    const used = new Set<string>();
    for (const b of snapshot.objects.ClusterRoleBinding.values()) used.add(`${b.roleRef.kind}/${b.roleRef.name}`);
    for (const b of snapshot.objects.RoleBinding.values()) {
      used.add(b.roleRef.kind === 'Role' ? `Role/${b.metadata.namespace}/${b.roleRef.name}` : `ClusterRole/${b.roleRef.name}`);
    }
    const verdicts: Verdict[] = [];
    const judgeRole = (kind: 'role' | 'clusterrole', meta: ObjectMeta, rules: readonly PolicyRule[], key: string): void => {
      if (isBootstrap(meta)) return;
      const wild = rules.filter((r) => wildcardsIn(r).length > 0);
      if (wild.length === 0) return;
      const superuser = wild.some(isSuperuserRule);
      const bound = used.has(key);
      verdicts.push({
        status: 'fail',
        severity: !bound ? 'low' : superuser ? 'high' : 'medium',
        resource: apiResource(kind, meta),
        title: `${kind === 'role' ? 'Role' : 'ClusterRole'} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name} uses * in ${[...new Set(wild.flatMap(wildcardsIn))].join(', ')}${bound ? '' : ' (bound by no binding)'}`,
        evidence: { source: API_SOURCE, key: 'rules', value: wild.map(ruleText), expected: 'explicit verbs, apiGroups and resources' },
      });
    };
    for (const r of snapshot.objects.ClusterRole.values()) {
      // An aggregated role's rules are its members': judged there.
      if (!r.aggregationRule) judgeRole('clusterrole', r.metadata, r.rules, `ClusterRole/${r.metadata.name}`);
    }
    for (const r of snapshot.objects.Role.values()) judgeRole('role', r.metadata, r.rules, `Role/${r.metadata.namespace}/${r.metadata.name}`);
    if (verdicts.length === 0) verdicts.push(nothingFound('no Role or ClusterRole (besides the built-in ones) uses *'));
    return verdicts;
  },
};

const podCreation = capabilityCheck({
  id: 'cis-5.1.4', cis: '5.1.4', capabilities: ['create-pods'], severity: { cluster: 'high', namespace: 'medium' },
  title: 'Access to create pods is minimized',
  remediation: 'Remove create on pods from roles that do not need it: whoever creates a pod can run it as any ServiceAccount of the namespace and mount its Secrets.',
  differs: 'kube-bench asks only whether system:authenticated may create pods; Vigil reports every subject that may, with the binding.',
});

const defaultServiceAccount: ClusterCheck = {
  id: 'cis-5.1.5', cis: '5.1.5', severity: 'medium', component: 'serviceaccount',
  reads: ['ServiceAccount', 'RoleBinding', 'ClusterRoleBinding', 'Role', 'ClusterRole'],
  title: 'Default ServiceAccounts are not actively used',
  remediation: 'Set automountServiceAccountToken: false on each namespace\'s default ServiceAccount, create a ServiceAccount per workload, and bind roles to those instead of to default.',
  differs: 'kube-bench only reads automountServiceAccountToken; Vigil also reports bindings that grant the default ServiceAccount permissions (the real "active use").',
  judge({ snapshot }) {
    const grants = new Map<string, Grant[]>();
    for (const g of allGrants(snapshot)) {
      if (g.subject.kind !== 'ServiceAccount' || g.subject.name !== 'default') continue;
      const ns = g.subject.namespace ?? g.binding.namespace;
      if (!ns || isBuiltInGrant(snapshot, g)) continue;
      grants.set(ns, [...(grants.get(ns) ?? []), g]);
    }
    const verdicts: Verdict[] = [];
    for (const sa of snapshot.objects.ServiceAccount.values()) {
      if (sa.metadata.name !== 'default' || !sa.metadata.namespace) continue;
      const ns = sa.metadata.namespace;
      const bound = grants.get(ns) ?? [];
      const automount = sa.automountServiceAccountToken !== false;
      if (!automount && bound.length === 0) continue;
      const bindings = [...new Set(bound.map((g) => `${refText(g.binding)} → ${refText(g.role)}`))];
      verdicts.push({
        status: 'fail',
        severity: bound.length ? 'high' : 'medium',
        resource: apiResource('serviceaccount', sa.metadata),
        title: bound.length
          ? `The default ServiceAccount of ${ns} is granted permissions (${bindings.join('; ')})`
          : `The default ServiceAccount of ${ns} mounts its token into every pod that does not opt out`,
        evidence: {
          source: API_SOURCE, key: 'automountServiceAccountToken',
          value: { automountServiceAccountToken: sa.automountServiceAccountToken ?? null, bindings },
          expected: 'false, and no binding to this ServiceAccount',
        },
      });
    }
    if (verdicts.length === 0) verdicts.push(nothingFound('every default ServiceAccount has automountServiceAccountToken: false and no binding'));
    return verdicts;
  },
};

const MASTERS = 'system:masters';

const systemMasters: ClusterCheck = {
  id: 'cis-5.1.7', cis: '5.1.7', severity: 'critical', component: 'rbac', reads: ['RoleBinding', 'ClusterRoleBinding'],
  title: 'The system:masters group is not used',
  remediation: 'Bind the people or ServiceAccounts that need administration to a named group bound to a role; never add bindings to system:masters nor issue certificates with O=system:masters.',
  differs: 'kube-bench and kubescape leave 5.1.7 to manual review. Vigil reports every binding to system:masters other than the built-in cluster-admin one (membership itself comes from client certificates, which the API does not show).',
  judge({ snapshot }) {
    const verdicts: Verdict[] = [];
    const judge = (b: BindingObject, kind: 'clusterrolebinding' | 'rolebinding'): void => {
      const masters = b.subjects.find((s) => s.kind === 'Group' && s.name === MASTERS);
      if (!masters) return;
      if (kind === 'clusterrolebinding' && isBootstrap(b.metadata) && b.metadata.name === 'cluster-admin') return;
      verdicts.push({
        status: 'fail',
        resource: apiResource(kind, b.metadata, { subject: shortSubject(masters) }),
        title: `${kind === 'rolebinding' ? 'RoleBinding' : 'ClusterRoleBinding'} ${b.metadata.namespace ? `${b.metadata.namespace}/` : ''}${b.metadata.name} binds group system:masters to ${b.roleRef.kind} ${b.roleRef.name}`,
        evidence: { source: API_SOURCE, key: 'subjects', value: b.subjects.map(shortSubject), expected: 'no subject system:masters',
          detail: 'system:masters bypasses authorization altogether; a binding to it only matters to whoever adds members' },
      });
    };
    for (const b of snapshot.objects.ClusterRoleBinding.values()) judge(b, 'clusterrolebinding');
    for (const b of snapshot.objects.RoleBinding.values()) judge(b, 'rolebinding');
    if (verdicts.length === 0) {
      verdicts.push(nothingFound('no binding names system:masters besides the built-in cluster-admin one; members come from client certificates (O=system:masters), which the API does not list'));
    }
    return verdicts;
  },
};

const bindEscalateImpersonate = capabilityCheck({
  id: 'cis-5.1.8', cis: '5.1.8', capabilities: ['bind', 'escalate', 'impersonate'], severity: { cluster: 'high', namespace: 'high' },
  title: 'Use of the bind, impersonate and escalate permissions is limited',
  remediation: 'Remove bind, escalate and impersonate from roles; where a controller needs bind, restrict it to the role names it binds (resourceNames).',
  differs: 'kube-bench leaves 5.1.8 to manual review; kubescape misses impersonation of uids and userextras and ignores resourceNames. Vigil judges all of them, with bind restricted to named roles reported as a warning.',
});

export const RBAC_CHECKS: ClusterCheck[] = [
  clusterAdminUse, secretsAccess, wildcardUse, podCreation, defaultServiceAccount, systemMasters, bindEscalateImpersonate,
];
