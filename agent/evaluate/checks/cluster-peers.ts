// Inventory, not judgement: which other hosts this node's control plane talks to (the apiserver's etcd
// endpoints, etcd's peers). The collector's coverage rule uses these to find cluster members that run no agent.
import type { Check, Verdict } from '../check.js';
import type { ComponentFact } from '../../facts/snapshot.js';
import { lastFlag } from '../../gather/flags.js';
import { etcdSetting } from './cis/etcd.js';
import { componentResource } from './cis/helpers.js';

function peerVerdict(c: ComponentFact | undefined, key: string, value: string | undefined, source: string, what: string): Verdict[] {
  if (!c || value === undefined || value === '') return [];
  return [{
    status: 'pass',
    resource: componentResource(c),
    evidence: { source, key, value, ...(c.path ? { path: c.path } : {}), detail: what },
  }];
}

export const clusterPeersChecks: Check[] = [
  {
    id: 'inventory-etcd-endpoints',
    cis: null,
    title: 'kube-apiserver etcd endpoints (inventory)',
    severity: 'info',
    component: 'kube-apiserver',
    remediation: 'Nothing to fix: this records the etcd members the API server uses, so the collector can tell whether each one runs an agent.',
    evaluate: (s) => {
      const c = s.components['kube-apiserver'];
      return peerVerdict(c, '--etcd-servers', c && lastFlag(c.flags, 'etcd-servers'), 'flag', 'etcd members this API server connects to');
    },
  },
  {
    id: 'inventory-etcd-peers',
    cis: null,
    title: 'etcd cluster peers (inventory)',
    severity: 'info',
    component: 'etcd',
    remediation: 'Nothing to fix: this records the etcd cluster members, so the collector can tell whether each one runs an agent.',
    evaluate: (s) => {
      const c = s.components.etcd;
      if (!c) return [];
      const v = etcdSetting(c, 'initial-cluster');
      return peerVerdict(c, v.source === 'env' ? 'ETCD_INITIAL_CLUSTER' : '--initial-cluster', v.value, v.source, 'members of this etcd cluster');
    },
  },
];
