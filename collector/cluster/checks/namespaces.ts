// Per namespace: CIS 5.2.1 (a policy control mechanism: Pod Security Admission labels, or an admission policy
// that sees pod creation there) and 5.3.2 (NetworkPolicies).
import type { ClusterSnapshot } from '../model.js';
import type { AdmissionRule, LabelSelector, NamespaceObject } from '../objects.js';
import { selects, selectsAll } from '../rbac/selectors.js';
import { API_SOURCE, apiResource, nothingFound, type ClusterCheck, type Verdict } from './catalogue.js';

const PSA = 'pod-security.kubernetes.io/';
const ENFORCING = new Set(['baseline', 'restricted']);

/** Does an admission rule see pods being created? */
const seesPodCreation = (r: AdmissionRule): boolean =>
  (r.operations.includes('CREATE') || r.operations.includes('*'))
  && (r.apiGroups.includes('') || r.apiGroups.includes('*'))
  && (r.resources.includes('pods') || r.resources.includes('*'))
  && r.scope !== 'Cluster';

const nsSelected = (selector: LabelSelector | undefined, ns: NamespaceObject): boolean =>
  selector === undefined || selects(selector, { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name });

/** Admission webhooks and ValidatingAdmissionPolicies that see pods created in this namespace and can reject them. */
function podPolicies(snapshot: ClusterSnapshot, ns: NamespaceObject): string[] {
  const out: string[] = [];
  for (const cfg of snapshot.objects.ValidatingWebhookConfiguration.values()) {
    for (const w of cfg.webhooks) {
      if (w.rules.some(seesPodCreation) && nsSelected(w.namespaceSelector, ns)) out.push(`ValidatingWebhookConfiguration ${cfg.metadata.name} (${w.name})`);
    }
  }
  for (const binding of snapshot.objects.ValidatingAdmissionPolicyBinding.values()) {
    if (!binding.validationActions.includes('Deny')) continue;
    const policy = snapshot.objects.ValidatingAdmissionPolicy.get(binding.policyName);
    if (!policy || !policy.matchConstraints?.resourceRules.some(seesPodCreation)) continue;
    if (!nsSelected(policy.matchConstraints.namespaceSelector, ns) || !nsSelected(binding.matchResources?.namespaceSelector, ns)) continue;
    out.push(`ValidatingAdmissionPolicy ${policy.metadata.name} (binding ${binding.metadata.name})`);
  }
  return out;
}

const podSecurityLabels: ClusterCheck = {
  id: 'cis-5.2.1', cis: '5.2.1', severity: 'medium', component: 'admission',
  reads: ['Namespace', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'],
  title: 'Every namespace has an active policy control mechanism',
  remediation: 'Label the namespace pod-security.kubernetes.io/enforce=baseline (or restricted), or cover it with an admission policy that rejects unsafe pods.',
  differs: 'kube-bench leaves 5.2.1 to manual review; kubescape accepts any namespaced webhook (cert-manager\'s too) as a policy engine. Vigil counts only webhooks and ValidatingAdmissionPolicies (with a Deny binding) that see pod creation in that namespace, reports those as warnings (what they enforce is not visible), and fails enforce=privileged, which enforces nothing. Cluster-wide PSA defaults set in the API server\'s AdmissionConfiguration are not visible through the API.',
  judge({ snapshot }) {
    const verdicts: Verdict[] = [];
    for (const ns of snapshot.objects.Namespace.values()) {
      const labels = Object.fromEntries(Object.entries(ns.metadata.labels).filter(([k]) => k.startsWith(PSA)));
      const enforce = labels[`${PSA}enforce`];
      if (enforce !== undefined && ENFORCING.has(enforce)) continue;
      const resource = apiResource('namespace', ns.metadata);
      const evidence = { source: API_SOURCE, key: `metadata.labels.${PSA}enforce`, value: labels, expected: 'enforce=baseline or restricted' };
      const policies = podPolicies(snapshot, ns);
      const name = ns.metadata.name;
      if (enforce === undefined && policies.length) {
        verdicts.push({ status: 'warn', severity: 'low', resource, title: `Namespace ${name} has no Pod Security label; admission policies see its pods: ${policies.join(', ')}`,
          evidence: { ...evidence, detail: 'what those policies enforce is not visible through the API' } });
      } else if (enforce !== undefined) {
        verdicts.push({ status: 'fail', resource, title: `Namespace ${name} enforces Pod Security level ${enforce}, which admits any pod`, evidence });
      } else {
        const audit = labels[`${PSA}audit`] ?? labels[`${PSA}warn`];
        verdicts.push({ status: 'fail', resource,
          title: `Namespace ${name} has no Pod Security enforce label${audit ? ` (only audit/warn ${audit})` : ''} and no admission policy sees its pods`, evidence });
      }
    }
    if (verdicts.length === 0) verdicts.push(nothingFound('every namespace enforces Pod Security baseline or restricted'));
    return verdicts;
  },
};

const networkPolicies: ClusterCheck = {
  id: 'cis-5.3.2', cis: '5.3.2', severity: 'medium', component: 'network-policy', reads: ['Namespace', 'NetworkPolicy'],
  title: 'Every namespace has NetworkPolicies',
  remediation: 'Add a default-deny NetworkPolicy to the namespace (podSelector: {}, policyTypes: [Ingress, Egress]) and allow the traffic each workload needs.',
  differs: 'kubescape passes a namespace with any NetworkPolicy, even one that allows everything. Vigil passes a namespace whose policies select every pod for ingress without allowing all, and warns on partial or allow-all policies.',
  judge({ snapshot }) {
    const byNs = new Map<string, typeof policies>();
    const policies = [...snapshot.objects.NetworkPolicy.values()];
    for (const p of policies) byNs.set(p.metadata.namespace ?? '', [...(byNs.get(p.metadata.namespace ?? '') ?? []), p]);
    const verdicts: Verdict[] = [];
    for (const ns of snapshot.objects.Namespace.values()) {
      const mine = byNs.get(ns.metadata.name) ?? [];
      const resource = apiResource('namespace', ns.metadata);
      const evidence = { source: API_SOURCE, key: 'networkpolicies', value: mine.map((p) => p.metadata.name), expected: 'a policy selecting every pod for ingress' };
      const covering = mine.filter((p) => selectsAll(p.podSelector) && p.policyTypes.includes('Ingress'));
      if (covering.some((p) => !p.allowsAllIngress)) continue;
      if (mine.length === 0) {
        verdicts.push({ status: 'fail', resource, title: `Namespace ${ns.metadata.name} has no NetworkPolicy: every pod accepts traffic from anywhere`, evidence });
      } else if (covering.length) {
        verdicts.push({ status: 'warn', severity: 'low', resource, title: `Namespace ${ns.metadata.name}'s NetworkPolicy ${covering[0].metadata.name} allows all ingress`, evidence });
      } else {
        verdicts.push({ status: 'warn', severity: 'low', resource, title: `Namespace ${ns.metadata.name}'s NetworkPolicies select only some pods; the others accept traffic from anywhere`, evidence });
      }
    }
    if (verdicts.length === 0) verdicts.push(nothingFound('every namespace has a NetworkPolicy selecting all its pods'));
    return verdicts;
  },
};

/** Namespaces without any NetworkPolicy: every pod in them accepts traffic from anywhere. */
export function namespacesWithoutNetworkPolicy(snapshot: ClusterSnapshot): Set<string> {
  const covered = new Set([...snapshot.objects.NetworkPolicy.values()].map((p) => p.metadata.namespace ?? ''));
  return new Set([...snapshot.objects.Namespace.keys()].filter((n) => !covered.has(n)));
}

export const NAMESPACE_CHECKS: ClusterCheck[] = [podSecurityLabels, networkPolicies];
