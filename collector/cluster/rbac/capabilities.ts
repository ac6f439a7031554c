// The permissions that matter for security, as requests the RBAC matcher understands. Each capability is a
// list of requests (any one suffices); a rule that covers one only through resourceNames reaches `named`
// objects, not all of them.
import type { PolicyRule } from '../objects.js';
import { ruleReach, type ResourceRequest } from './rules.js';
import type { Grant } from './resolve.js';

export const CAPABILITIES = {
  'read-secrets': {
    text: 'read Secrets',
    requests: ['get', 'list', 'watch'].map((verb) => ({ verb, group: '', resource: 'secrets' })),
  },
  'create-pods': {
    text: 'create pods (and run them as any ServiceAccount of the namespace)',
    requests: [{ verb: 'create', group: '', resource: 'pods' }],
  },
  'create-workloads': {
    text: 'create workloads that create pods',
    requests: [
      ...['deployments', 'daemonsets', 'statefulsets', 'replicasets'].map((resource) => ({ verb: 'create', group: 'apps', resource })),
      ...['jobs', 'cronjobs'].map((resource) => ({ verb: 'create', group: 'batch', resource })),
      { verb: 'create', group: '', resource: 'replicationcontrollers' },
    ],
  },
  'exec-pods': {
    text: 'exec into pods',
    requests: [{ verb: 'create', group: '', resource: 'pods', subresource: 'exec' }, { verb: 'get', group: '', resource: 'pods', subresource: 'exec' }],
  },
  bind: {
    text: 'bind roles they do not hold',
    requests: ['roles', 'clusterroles'].map((resource) => ({ verb: 'bind', group: 'rbac.authorization.k8s.io', resource })),
  },
  escalate: {
    text: 'escalate: write roles with permissions they do not hold',
    requests: ['roles', 'clusterroles'].map((resource) => ({ verb: 'escalate', group: 'rbac.authorization.k8s.io', resource })),
  },
  impersonate: {
    text: 'impersonate users, groups or ServiceAccounts',
    requests: [
      ...['users', 'groups', 'serviceaccounts'].map((resource) => ({ verb: 'impersonate', group: '', resource })),
      { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids' },
      { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: 'scopes' },
    ],
  },
  'create-tokens': {
    text: 'create ServiceAccount tokens',
    requests: [{ verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token' }],
  },
} satisfies Record<string, { text: string; requests: Array<Omit<ResourceRequest, 'name'>> }>;

export type Capability = keyof typeof CAPABILITIES;
export const CAPABILITY_NAMES = Object.keys(CAPABILITIES) as Capability[];

/** How far a rule reaches a capability: the widest of its requests. */
export function capabilityReach(rule: PolicyRule, capability: Capability): 'all' | 'named' | 'none' {
  let reach: 'all' | 'named' | 'none' = 'none';
  for (const req of CAPABILITIES[capability].requests) {
    const r = ruleReach(rule, req);
    if (r === 'all') return 'all';
    if (r === 'named') reach = 'named';
  }
  return reach;
}

/** One capability a subject holds, through which grant, how far. */
interface HeldCapability {
  capability: Capability;
  reach: 'all' | 'named';
  grant: Grant;
}

export function capabilitiesOf(grants: readonly Grant[], wanted: readonly Capability[] = CAPABILITY_NAMES): HeldCapability[] {
  const out: HeldCapability[] = [];
  for (const grant of grants) {
    for (const capability of wanted) {
      const reach = capabilityReach(grant.rule, capability);
      if (reach !== 'none') out.push({ capability, reach, grant });
    }
  }
  return out;
}
