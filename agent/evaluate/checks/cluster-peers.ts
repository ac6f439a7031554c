// Inventory, not judgement: which other hosts this node's control plane talks to (the apiserver's etcd
// endpoints, etcd's peers). The collector's coverage rule uses these to find cluster members that run no agent.
import { setting } from '../../facts/inputs.js';
import type { ComponentFact, Setting } from '../../facts/snapshot.js';
import type { Check, Verdict } from '../check.js';
import { componentResource } from '../evidence.js';

/** A verdict naming the peers, when the component was given any (flag or, for etcd, ETCD_* variable). */
function peerVerdict(c: ComponentFact | undefined, peers: Setting | undefined, what: string): Verdict[] {
  if (!c || !peers || (peers.source !== 'flag' && peers.source !== 'env')) return [];
  const value = peers.value;
  if (typeof value !== 'string' || value === '') return [];
  const key = peers.source === 'env' && peers.env ? peers.env : `--${peers.flag ?? peers.key}`;
  return [{
    status: 'pass',
    resource: componentResource(c),
    evidence: { source: peers.source, key, value, ...(c.path ? { path: c.path } : {}), detail: what },
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
    reads: [setting('kube-apiserver', 'etcd-servers')],
    evaluate: (s) => {
      const c = s.components['kube-apiserver'];
      return peerVerdict(c, c?.settings['etcd-servers'], 'etcd members this API server connects to');
    },
  },
  {
    id: 'inventory-etcd-peers',
    cis: null,
    title: 'etcd cluster peers (inventory)',
    severity: 'info',
    component: 'etcd',
    remediation: 'Nothing to fix: this records the etcd cluster members, so the collector can tell whether each one runs an agent.',
    reads: [setting('etcd', 'initial-cluster')],
    evaluate: (s) => {
      const c = s.components.etcd;
      return peerVerdict(c, c?.settings['initial-cluster'], 'members of this etcd cluster');
    },
  },
];
