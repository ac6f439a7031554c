// Coverage: where the collector's picture has holes — nodes gone quiet, and nodes others talk to that run no agent.
import { isLoopbackHost, isWildcardHost } from '../../common/address.js';
import { isRecord, stringOf } from '../../common/json.js';
import type { NodeRecord, StoredFinding } from '../store/types.js';
import { FACT_INPUTS, portOf, referencedHosts } from './facts.js';
import { ref, type Correlation, type CorrelationRule } from './types.js';

const silentNode: CorrelationRule = {
  id: 'silent-node',
  kind: 'coverage',
  description: 'A node that has not reported for 3 report intervals: down, cut off, or its agent tampered with.',
  evaluate(state) {
    return state.nodes.filter((n) => state.now - n.lastReport > state.silentAfterMs).map((n) => ({
      id: `coverage:silent-node:${n.name}`,
      kind: 'coverage' as const,
      rule: this.id,
      severity: 'high' as const,
      title: `Node ${n.name} stopped reporting (last report ${new Date(n.lastReport).toISOString()})`,
      nodes: [n.name],
      evidence: [],
      detail: `no report for ${Math.round((state.now - n.lastReport) / 1000)} s; silent after ${Math.round(state.silentAfterMs / 1000)} s`,
    }));
  },
};

/** Names and addresses a reporting node is known by: its name (and short name), listed addresses, bound IPs. */
function knownIdentities(nodes: readonly NodeRecord[], facts: readonly StoredFinding[]): Set<string> {
  const known = new Set<string>();
  for (const n of nodes) {
    known.add(n.name.toLowerCase());
    known.add(n.name.toLowerCase().split('.')[0]);
    for (const key of ['addresses', 'ips', 'hostname']) {
      const v = n.info[key];
      for (const item of Array.isArray(v) ? v : [v]) {
        const a = stringOf(item) ?? (isRecord(item) ? stringOf(item.address) : undefined);
        if (a !== undefined) known.add(a.toLowerCase());
      }
    }
  }
  for (const f of facts) {
    const p = portOf(f.finding);
    if (p && !isLoopbackHost(p.address) && !isWildcardHost(p.address) && p.address !== '*') known.add(p.address.toLowerCase());
  }
  return known;
}

const unmonitoredPeer: CorrelationRule = {
  id: 'unmonitored-peer',
  kind: 'coverage',
  description: 'A host named in other nodes\' settings (an etcd peer, an apiserver endpoint) that runs no reporting agent.',
  evaluate(state) {
    const known = knownIdentities(state.nodes, state.facts);
    const keys = new Set<string>(FACT_INPUTS.referenceKeys);
    const referrers = new Map<string, StoredFinding[]>();
    for (const f of state.facts) {
      if (!f.finding.evidence.key || !keys.has(f.finding.evidence.key)) continue;
      for (const host of referencedHosts(f.finding.evidence.value)) {
        if (known.has(host) || known.has(host.split('.')[0])) continue;
        let list = referrers.get(host);
        if (!list) referrers.set(host, (list = []));
        list.push(f);
      }
    }
    return [...referrers].map(([host, facts]) => ({
      id: `coverage:unmonitored-peer:${host}`,
      kind: 'coverage' as const,
      rule: this.id,
      severity: 'medium' as const,
      title: `${host} is named by ${[...new Set(facts.map((f) => f.node))].join(', ')} but runs no Vigil agent`,
      nodes: [...new Set(facts.map((f) => f.node))],
      evidence: facts.map(ref),
    }));
  },
};

export const COVERAGE_RULES: CorrelationRule[] = [silentNode, unmonitoredPeer];

/** The only facts unmonitored-peer reads: listeners (their addresses identify nodes) and settings naming other hosts. */
export function isPeerInput(f: StoredFinding): boolean {
  const key = f.finding.evidence.key;
  return portOf(f.finding) !== undefined || (key !== undefined && (FACT_INPUTS.referenceKeys as readonly string[]).includes(key));
}
