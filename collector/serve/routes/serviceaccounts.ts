// GET /api/v1/serviceaccounts/{namespace}/{name}/permissions: what a ServiceAccount's token may do, resolved the
// way the API server's RBAC authorizer resolves it (its own bindings, those of its groups, aggregated ClusterRoles
// expanded), with the permissions that matter for security named, and the pods that run as it.
import { z } from 'zod';
import { isBuiltInGrant } from '../../cluster/checks/rbac.js';
import { isRunning } from '../../cluster/checks/workloads.js';
import type { ClusterSnapshot } from '../../cluster/model.js';
import { capabilitiesOf, CAPABILITIES, CAPABILITY_NAMES } from '../../cluster/rbac/capabilities.js';
import { grantsFor, resolutionProblems, serviceAccountUser, type Grant, type ObjectRef } from '../../cluster/rbac/resolve.js';
import type { RoutePlugin } from '../context.js';
import { NO_PARAMS } from '../params.js';
import { ErrorBody, tokenRouteErrors } from '../schemas.js';

/** A DNS label (namespaces) or subdomain (ServiceAccount names), as Kubernetes allows them. */
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const Params = z.object({
  namespace: z.string().regex(DNS_NAME, 'must be a Kubernetes namespace name').describe('the ServiceAccount\'s namespace'),
  name: z.string().regex(DNS_NAME, 'must be a Kubernetes object name').describe('the ServiceAccount\'s name'),
});

const Ref = z.object({ kind: z.string(), name: z.string(), namespace: z.string().optional() });

const Rule = z.object({
  verbs: z.array(z.string()),
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  resourceNames: z.array(z.string()),
  nonResourceURLs: z.array(z.string()),
});

const GrantBody = z.object({
  scope: z.string().describe('`*`: every namespace and the cluster-scoped resources (a ClusterRoleBinding); otherwise the one namespace'),
  binding: Ref,
  role: Ref,
  subject: Ref.describe('the binding subject that matched: the ServiceAccount itself or a group it is in'),
  rule: Rule,
  aggregatedFrom: z.string().optional().describe('for an aggregated ClusterRole: the ClusterRole that declares the rule'),
  pending: z.boolean().optional().describe('selected by the aggregationRule but not yet written by the aggregation controller'),
  builtIn: z.boolean().describe("the API server's own bootstrap grant (e.g. discovery for every authenticated user)"),
});

const CapabilityBody = z.object({
  capability: z.enum(CAPABILITY_NAMES as [string, ...string[]]),
  description: z.string(),
  reach: z.enum(['all', 'named']).describe('`named`: only the objects its resourceNames list'),
  resourceNames: z.array(z.string()),
  scope: z.string(),
  binding: Ref,
  role: Ref,
});

const PermissionsBody = z.object({
  namespace: z.string(),
  name: z.string(),
  exists: z.boolean().describe('the ServiceAccount object exists (bindings may name one that does not, yet)'),
  automountServiceAccountToken: z.boolean().nullable(),
  user: z.string().describe('the user name its tokens authenticate as'),
  groups: z.array(z.string()).describe('the groups its tokens carry'),
  grants: z.array(GrantBody).describe('every rule that applies to it, with the binding that grants it'),
  capabilities: z.array(CapabilityBody).describe('the security-relevant permissions among them (built-in grants aside)'),
  pods: z.array(z.string()).describe('running pods (namespace/name) that run as it'),
  problems: z.array(z.string()).describe('bindings naming it whose role does not exist (they grant nothing)'),
});

const refOut = (r: ObjectRef) => ({ kind: r.kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) });

function present(snapshot: ClusterSnapshot, namespace: string, name: string) {
  const user = serviceAccountUser(namespace, name);
  const sa = snapshot.objects.ServiceAccount.get(`${namespace}/${name}`);
  const grants = grantsFor(snapshot, user);
  const judged = grants.filter((g) => !isBuiltInGrant(snapshot, g));
  const grantOut = (g: Grant) => ({
    scope: g.scope, binding: refOut(g.binding), role: refOut(g.role), subject: refOut(g.subject), rule: g.rule,
    ...(g.aggregatedFrom ? { aggregatedFrom: g.aggregatedFrom } : {}), ...(g.pending ? { pending: true } : {}),
    builtIn: !judged.includes(g),
  });
  const bindings = new Set(grants.map((g) => `${g.binding.kind}/${g.binding.namespace ?? ''}/${g.binding.name}`));
  const mine = (s: { kind: string; name: string; namespace?: string }, bindingNs?: string): boolean =>
    s.kind === 'ServiceAccount' && s.name === name && (s.namespace ?? bindingNs) === namespace;
  const problems = resolutionProblems(snapshot).filter((p) => {
    const b = p.binding.kind === 'ClusterRoleBinding'
      ? snapshot.objects.ClusterRoleBinding.get(p.binding.name)
      : snapshot.objects.RoleBinding.get(`${p.binding.namespace}/${p.binding.name}`);
    return b?.subjects.some((s) => mine(s, p.binding.namespace));
  });
  return {
    body: {
      namespace, name,
      exists: sa !== undefined,
      automountServiceAccountToken: sa?.automountServiceAccountToken ?? null,
      user: user.name,
      groups: user.groups,
      grants: grants.map(grantOut),
      capabilities: capabilitiesOf(judged).map((c) => ({
        capability: c.capability, description: CAPABILITIES[c.capability].text, reach: c.reach,
        resourceNames: c.reach === 'named' ? c.grant.rule.resourceNames : [],
        scope: c.grant.scope, binding: refOut(c.grant.binding), role: refOut(c.grant.role),
      })),
      pods: [...snapshot.objects.Pod.values()]
        .filter((p) => isRunning(p) && p.metadata.namespace === namespace && p.serviceAccountName === name)
        .map((p) => `${namespace}/${p.metadata.name}`).sort(),
      problems: problems.map((p) => `${p.binding.kind} ${p.binding.namespace ? `${p.binding.namespace}/` : ''}${p.binding.name}: ${p.message}`),
    },
    known: sa !== undefined || bindings.size > 0,
  };
}

const RBAC_KINDS = ['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'] as const;

export const serviceAccountsRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/api/v1/serviceaccounts/:namespace/:name/permissions', {
    config: { role: 'read' },
    schema: {
      summary: "A ServiceAccount's effective RBAC permissions (aggregated ClusterRoles resolved) and what they allow",
      params: Params,
      querystring: NO_PARAMS,
      response: {
        200: PermissionsBody.describe('every grant, the security-relevant capabilities, the pods that run as it'),
        404: ErrorBody.describe('no such ServiceAccount, and no binding names it'),
        ...tokenRouteErrors('read'),
        503: ErrorBody.describe('the collector does not read the Kubernetes API (--no-kube, no in-cluster config), or has not read RBAC yet'),
      },
    },
  }, async (req, reply) => {
    const { namespace, name } = req.params;
    const snapshot = ctx.cluster?.snapshot();
    if (!ctx.cluster) {
      return reply.code(503).send({ error: 'Service Unavailable', message: 'this collector does not read the Kubernetes API (start it in a pod or with --kubeconfig)' });
    }
    const unread = snapshot ? RBAC_KINDS.filter((k) => !snapshot.kinds[k].listed) : [...RBAC_KINDS];
    if (!snapshot || unread.length) {
      return reply.code(503).send({ error: 'Service Unavailable', message: `the collector has not read ${unread.join(', ')} from the Kubernetes API yet` });
    }
    const { body, known } = present(snapshot, namespace, name);
    if (!known) return reply.code(404).send({ error: 'Not Found', message: `no ServiceAccount ${namespace}/${name}, and no binding names it` });
    return body;
  });
};
