// The agent's inventory of cluster peers feeds the collector's unmonitored-peer rule: the same finding shape
// the rule reads (evidence.key among its reference keys, evidence.value the raw flag value).
import { afterEach, describe, expect, it } from 'vitest';
import { scanNode } from '../../agent/scan.js';
import { FACT_INPUTS, referencedHosts } from '../../collector/correlate/facts.js';
import { buildHost, type BuiltHost } from '../fixtures/build.js';

let built: BuiltHost | undefined;
afterEach(() => built?.cleanup());

describe('cluster peer inventory', () => {
  it('reports the apiserver etcd endpoints and etcd peers in the form the coverage rule reads', async () => {
    built = buildHost({ procs: [
      { pid: 10, argv: ['kube-apiserver', '--etcd-servers=https://10.0.0.1:2379,https://etcd-2.internal:2379'] },
      { pid: 11, argv: ['etcd'], env: { ETCD_INITIAL_CLUSTER: 'cp-1=https://10.0.0.1:2380,cp-3=https://10.0.0.3:2380' } },
    ] });
    const { report } = await scanNode({ hostRoot: built.hostRoot, procRoot: built.procRoot, only: ['inventory-etcd-endpoints', 'inventory-etcd-peers'] });
    const byCheck = Object.fromEntries(report.findings.map((f) => [f.checkId, f]));
    const keys: readonly string[] = FACT_INPUTS.referenceKeys;
    expect(keys).toContain(byCheck['inventory-etcd-endpoints'].evidence.key);
    expect(keys).toContain(byCheck['inventory-etcd-peers'].evidence.key);
    expect(referencedHosts(byCheck['inventory-etcd-endpoints'].evidence.value)).toEqual(['10.0.0.1', 'etcd-2.internal']);
    expect(referencedHosts(byCheck['inventory-etcd-peers'].evidence.value)).toEqual(['10.0.0.1', '10.0.0.3']);
  });

  it('reports nothing where neither component runs', async () => {
    built = buildHost({});
    const { report } = await scanNode({ hostRoot: built.hostRoot, procRoot: built.procRoot, only: ['inventory-etcd-endpoints', 'inventory-etcd-peers'] });
    expect(report.findings).toEqual([]);
  });
});
