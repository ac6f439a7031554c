// CIS 5.1.6, 5.4.1 and 5.7.x on the pods the API holds. Pods that have finished (Succeeded, Failed) run
// nothing and are not judged. 5.4.1 joins the pod spec with what the agents saw on the node: a secret-looking
// variable the running container has but the spec does not declare came from the image or the runtime.
import type { ClusterSnapshot } from '../model.js';
import type { ContainerSpec, PodObject } from '../objects.js';
import { grantsFor, refText, serviceAccountUser, type Grant } from '../rbac/resolve.js';
import { isBuiltInGrant } from './rbac.js';
import { API_SOURCE, apiResource, nothingFound, type ClusterCheck, type Verdict } from './catalogue.js';

export const isRunning = (p: PodObject): boolean => p.phase !== 'Succeeded' && p.phase !== 'Failed';

const podsOf = (snapshot: ClusterSnapshot): PodObject[] => [...snapshot.objects.Pod.values()].filter(isRunning);

const podName = (p: PodObject): string => `${p.metadata.namespace}/${p.metadata.name}`;

/** Whether the pod's containers get a ServiceAccount token: a projected token volume (what admission adds) or an explicit automount. */
export function mountsToken(pod: PodObject, snapshot: ClusterSnapshot): boolean {
  if (pod.volumes.some((v) => v.serviceAccountToken)) return true;
  const sa = snapshot.objects.ServiceAccount.get(`${pod.metadata.namespace}/${pod.serviceAccountName}`);
  return (pod.automountServiceAccountToken ?? sa?.automountServiceAccountToken) === true;
}

/** What a ServiceAccount is granted beyond the API server's own grants to every authenticated user. */
export function serviceAccountGrants(snapshot: ClusterSnapshot, namespace: string, name: string): Grant[] {
  return grantsFor(snapshot, serviceAccountUser(namespace, name)).filter((g) => !isBuiltInGrant(snapshot, g));
}

const tokenMounts: ClusterCheck = {
  id: 'cis-5.1.6', cis: '5.1.6', severity: 'medium', component: 'pod',
  reads: ['Pod', 'ServiceAccount', 'RoleBinding', 'ClusterRoleBinding', 'Role', 'ClusterRole'],
  title: 'ServiceAccount tokens are only mounted where necessary',
  remediation: 'Set automountServiceAccountToken: false on the pod (or its ServiceAccount) unless the workload calls the Kubernetes API.',
  differs: 'kube-bench flags every pod that mounts a token. Vigil reads the projected token volume admission really added, fails the pods whose token carries permissions, and warns on tokens that carry none.',
  judge({ snapshot }) {
    const verdicts: Verdict[] = [];
    for (const pod of podsOf(snapshot)) {
      if (!mountsToken(pod, snapshot)) continue;
      const ns = pod.metadata.namespace!;
      const grants = serviceAccountGrants(snapshot, ns, pod.serviceAccountName);
      const bindings = [...new Set(grants.map((g) => `${refText(g.binding)} → ${refText(g.role)}`))];
      verdicts.push({
        status: grants.length ? 'fail' : 'warn',
        severity: grants.length ? 'medium' : 'low',
        resource: apiResource('pod', pod.metadata),
        title: grants.length
          ? `Pod ${podName(pod)} mounts the token of ServiceAccount ${pod.serviceAccountName}, which holds permissions`
          : `Pod ${podName(pod)} mounts a ServiceAccount token it may not need`,
        evidence: {
          source: API_SOURCE, key: 'automountServiceAccountToken',
          value: { serviceAccount: pod.serviceAccountName, automountServiceAccountToken: pod.automountServiceAccountToken ?? null, bindings },
          expected: 'false unless the workload calls the API',
        },
      });
    }
    if (verdicts.length === 0) verdicts.push(nothingFound('no running pod mounts a ServiceAccount token'));
    return verdicts;
  },
};

// The names the agent also treats as secret-looking (names only; values are never read).
const SECRET_NAME = /password|passwd|token|bearer|secret|credential|private_?key|api_?key/i;
const SERVICE_LINK = /^[A-Z_][A-Z0-9_]*_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/;
const looksSecret = (name: string): boolean => !SERVICE_LINK.test(name) && SECRET_NAME.test(name);

function judgeSecretEnv(pod: PodObject, c: ContainerSpec, nodeNames: readonly string[], nodes: readonly string[]): Verdict | undefined {
  const declared = new Map(c.env.map((e) => [e.name, e]));
  const fromSecret = c.env.filter((e) => e.from === 'secret').map((e) => `${e.name} (Secret ${'secret' in e ? e.secret : ''})`);
  const wholeSecrets = c.envFrom.filter((e) => e.from === 'secret').map((e) => `envFrom Secret ${e.name}`);
  const literal = c.env.filter((e) => e.from === 'value' && looksSecret(e.name)).map((e) => e.name);
  // Seen by the agent in the running process, but not declared in the pod spec: from the image or the runtime.
  const undeclared = nodeNames.filter((n) => !declared.has(n) && !c.envFrom.length);
  const resource = apiResource('pod', pod.metadata, { container: c.name });
  const value = { fromSecret: [...fromSecret, ...wholeSecrets], literalInSpec: literal, notInSpec: undeclared };
  const where = `${podName(pod)} container ${c.name}`;
  if (literal.length || undeclared.length) {
    const parts = [
      ...(literal.length ? [`${literal.join(', ')} written into the pod spec (readable by anyone who may get pods)`] : []),
      ...(undeclared.length ? [`${undeclared.join(', ')} from the image or the runtime (seen on ${nodes.join(', ')}, not in the pod spec)`] : []),
    ];
    return {
      status: 'fail', severity: 'high', resource, discriminator: c.name,
      title: `Secret in environment variables of ${where}: ${parts.join('; ')}`,
      evidence: { source: nodeNames.length ? `${API_SOURCE}+agent` : API_SOURCE, key: 'env', value, expected: 'secrets mounted as files',
        detail: 'variable names only; values are never read' },
    };
  }
  if (fromSecret.length || wholeSecrets.length) {
    return {
      status: 'warn', severity: 'medium', resource, discriminator: c.name,
      title: `Secret passed as environment variables to ${where}: ${[...fromSecret, ...wholeSecrets].join(', ')}`,
      evidence: { source: API_SOURCE, key: 'env', value, expected: 'secrets mounted as files',
        detail: 'taken from a Secret, but exposed to every process of the container and to crash dumps through the environment' },
    };
  }
  return undefined;
}

const secretsAsEnv: ClusterCheck = {
  id: 'cis-5.4.1', cis: '5.4.1', severity: 'high', component: 'pod', reads: ['Pod'], readsNodes: true,
  title: 'Secrets are used as files, not environment variables',
  remediation: 'Mount Secrets as volumes and read them from files; move secrets out of images and literal env values, and rotate what was exposed.',
  differs: 'kubescape reads secretKeyRef and envFrom in manifests only; Vigil also names secret-looking literal values in the spec and variables the running container has that no spec declares (the agents\' view of the same container).',
  judge({ snapshot, nodes }) {
    const verdicts: Verdict[] = [];
    for (const pod of podsOf(snapshot)) {
      const seen = nodes.secretEnv.get(podName(pod)) ?? [];
      for (const c of pod.containers) {
        const mine = seen.filter((s) => s.container === c.name);
        const v = judgeSecretEnv(pod, c, [...new Set(mine.flatMap((s) => s.names))], [...new Set(mine.map((s) => s.node))]);
        if (v) verdicts.push(v);
      }
    }
    if (verdicts.length === 0) verdicts.push(nothingFound('no running container gets a secret through its environment'));
    return verdicts;
  },
};

const FILTERED_SECCOMP = new Set(['RuntimeDefault', 'Localhost']);

const seccompProfiles: ClusterCheck = {
  id: 'cis-5.7.2', cis: '5.7.2', severity: 'medium', component: 'pod', reads: ['Pod'],
  title: 'Pods set a seccomp profile (RuntimeDefault or Localhost)',
  remediation: 'Set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod (or on each container).',
  judge({ snapshot }) {
    const verdicts: Verdict[] = [];
    for (const pod of podsOf(snapshot)) {
      const unfiltered = pod.containers.filter((c) => c.type !== 'ephemeral' && !FILTERED_SECCOMP.has(c.seccompType ?? pod.seccompType ?? ''));
      if (unfiltered.length === 0) continue;
      const unconfined = unfiltered.some((c) => (c.seccompType ?? pod.seccompType) === 'Unconfined');
      verdicts.push({
        status: 'fail', severity: unconfined ? 'high' : 'medium',
        resource: apiResource('pod', pod.metadata),
        title: `Pod ${podName(pod)} runs ${unfiltered.map((c) => c.name).join(', ')} without a seccomp profile${unconfined ? ' (Unconfined)' : ''}`,
        evidence: { source: API_SOURCE, key: 'securityContext.seccompProfile.type',
          value: Object.fromEntries(unfiltered.map((c) => [c.name, c.seccompType ?? pod.seccompType ?? null])), expected: 'RuntimeDefault or Localhost' },
      });
    }
    if (verdicts.length === 0) verdicts.push(nothingFound('every running pod sets a seccomp profile'));
    return verdicts;
  },
};

const securityContexts: ClusterCheck = {
  id: 'cis-5.7.3', cis: '5.7.3', severity: 'low', component: 'pod', reads: ['Pod'],
  title: 'Pods and containers have a securityContext',
  remediation: 'Give the pod a securityContext (runAsNonRoot, seccompProfile) and each container one (allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities.drop: [ALL]).',
  judge({ snapshot }) {
    const verdicts: Verdict[] = [];
    for (const pod of podsOf(snapshot)) {
      if (pod.hasSecurityContext || pod.containers.some((c) => c.hasSecurityContext)) continue;
      verdicts.push({
        status: 'fail', resource: apiResource('pod', pod.metadata),
        title: `Pod ${podName(pod)} sets no securityContext at all`,
        evidence: { source: API_SOURCE, key: 'securityContext', value: null, expected: 'a pod or container securityContext' },
      });
    }
    if (verdicts.length === 0) verdicts.push(nothingFound('every running pod sets a securityContext'));
    return verdicts;
  },
};

const defaultNamespace: ClusterCheck = {
  id: 'cis-5.7.4', cis: '5.7.4', severity: 'low', component: 'namespace', reads: ['Pod', 'ServiceAccount', 'Role', 'RoleBinding'],
  title: 'The default namespace is not used',
  remediation: 'Move workloads, ServiceAccounts and RBAC objects out of the default namespace into namespaces of their own.',
  differs: 'kubescape also flags the ConfigMap kube-root-ca.crt that every namespace gets; Vigil judges pods, ServiceAccounts other than default, Roles and RoleBindings.',
  judge({ snapshot }) {
    const verdicts: Verdict[] = [];
    const inDefault = <T extends { metadata: { namespace?: string; name: string } }>(xs: Iterable<T>): T[] =>
      [...xs].filter((x) => x.metadata.namespace === 'default');
    const flag = (kind: 'pod' | 'serviceaccount' | 'role' | 'rolebinding', meta: { name: string; namespace?: string }): void => {
      verdicts.push({
        status: 'fail', resource: apiResource(kind, meta),
        title: `${kind} ${meta.name} lives in the default namespace`,
        evidence: { source: API_SOURCE, key: 'metadata.namespace', value: 'default', expected: 'a namespace of its own' },
      });
    };
    for (const p of inDefault(snapshot.objects.Pod.values()).filter(isRunning)) flag('pod', p.metadata);
    for (const sa of inDefault(snapshot.objects.ServiceAccount.values())) if (sa.metadata.name !== 'default') flag('serviceaccount', sa.metadata);
    for (const r of inDefault(snapshot.objects.Role.values())) flag('role', r.metadata);
    for (const b of inDefault(snapshot.objects.RoleBinding.values())) flag('rolebinding', b.metadata);
    if (verdicts.length === 0) verdicts.push(nothingFound('nothing but the built-in objects in the default namespace'));
    return verdicts;
  },
};

export const WORKLOAD_CHECKS: ClusterCheck[] = [tokenMounts, secretsAsEnv, seccompProfiles, securityContexts, defaultNamespace];
