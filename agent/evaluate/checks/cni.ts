// CIS 5.3.1: the CNI in use must enforce NetworkPolicy, or every policy the cluster defines is silently ignored.
import { fact } from '../../facts/inputs.js';
import type { Check, Verdict } from '../check.js';

const networkPolicy: Check = {
  id: 'cni-network-policy', cis: '5.3.1', severity: 'medium', component: 'cluster',
  title: 'The CNI in use enforces NetworkPolicy',
  remediation: 'Use a CNI that enforces NetworkPolicy (Calico, Cilium, Antrea, Weave Net, kube-router; with Flannel, Canal adds Calico policy), then define NetworkPolicies for every namespace.',
  differsFromKubeBench: 'kube-bench leaves 5.3.1 to manual review; Vigil judges the active CNI config on the node.',
  reads: [fact('cni')],
  evaluate(s) {
    const { cni } = s;
    const resource: Verdict['resource'] = cni.activeConfig ? { kind: 'file', path: cni.activeConfig } : { kind: 'node' };
    const errors = cni.errors.map((e) => `${e.path}: ${e.code}`).join('; ');
    const evidence = {
      source: 'cni',
      path: cni.activeConfig ?? cni.confDir,
      expected: 'a plugin that enforces NetworkPolicy',
      value: cni.plugins,
      detail: [
        cni.activeConfig
          ? `active config ${cni.activeConfig}${cni.networkName ? ` (network ${cni.networkName})` : ''}, plugins ${cni.plugins.join(', ')}`
          : `no loadable CNI config in ${cni.confDir ?? 'the conf dir'} (from ${cni.confDirSource ?? 'default'})`,
        cni.policyReason,
        errors ? `unreadable: ${errors}` : undefined,
      ].filter(Boolean).join('; '),
    };
    if (!cni.activeConfig) {
      if (errors) return [{ status: 'error', resource, evidence }];
      // Without a kubelet there are no pods here to protect; with one, the node has no pod network of its own.
      return [{ status: s.components.kubelet ? 'warn' : 'skip', resource, evidence }];
    }
    if (cni.enforcesNetworkPolicy === true) return [{ status: 'pass', resource, evidence }];
    if (cni.enforcesNetworkPolicy === false) return [{ status: 'fail', resource, evidence }];
    return [{ status: 'warn', severity: 'low', resource, evidence }];
  },
};

export const cniChecks: Check[] = [networkPolicy];
