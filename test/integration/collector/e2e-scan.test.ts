// End to end from real scans: `scanNode` on three fixture host trees (a kubeadm control plane, a hardened worker,
// and the same worker drifted: anonymous kubelet auth, AlwaysAllow, 10250 on every address), the reports posted
// to a running collector, drift and the kubelet attack path read back through REST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanNode } from '../../../agent/scan.js';
import { buildHost, type BuiltHost, type HostSpec } from '../../fixtures/build.js';
import { hardenedWorker, HARDENED_KUBELET_CONFIG } from '../../fixtures/hosts/hardened-worker.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { startTestCollector, type TestCollector } from '../../unit/collector/collector-harness.js';

/** /proc/net/tcp with one listener on 0.0.0.0:10250 (0x280A), state LISTEN (0A). */
const KUBELET_LISTENING = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
  + '   0: 00000000:280A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 424242 1 0000000000000000 100 0 0 10 0\n';

function driftedWorker(): HostSpec {
  const spec = hardenedWorker();
  const config = HARDENED_KUBELET_CONFIG
    .replace('anonymous:\n    enabled: false', 'anonymous:\n    enabled: true')
    .replace('authorization:\n  mode: Webhook', 'authorization:\n  mode: AlwaysAllow');
  expect(config).not.toBe(HARDENED_KUBELET_CONFIG);
  const files = { ...spec.files };
  const current = files['/var/lib/kubelet/config.yaml'];
  files['/var/lib/kubelet/config.yaml'] = typeof current === 'string' ? config : { ...current, content: config };
  return { ...spec, files, procFiles: { ...spec.procFiles, 'net/tcp': KUBELET_LISTENING } };
}

describe('collector end to end from fixture scans', () => {
  const hosts: BuiltHost[] = [];
  let c: TestCollector;

  beforeAll(async () => {
    c = await startTestCollector();
    const nodes: Array<[string, HostSpec]> = [['cp-1', kubeadmControlPlane()], ['worker-1', hardenedWorker()], ['worker-2', driftedWorker()]];
    for (const [name, spec] of nodes) {
      const host = buildHost(spec);
      hosts.push(host);
      const { report } = await scanNode({ hostRoot: host.hostRoot, procRoot: host.procRoot, nodeName: name });
      const res = await c.post('/api/v1/reports', report);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });

  afterAll(async () => {
    await c?.stop();
    for (const h of hosts) h.cleanup();
  });

  it('stores the scans with their roles', async () => {
    const nodes = (await c.get('/api/v1/nodes')).body.items;
    expect(nodes.map((n: any) => [n.name, n.roles])).toEqual([
      ['cp-1', expect.arrayContaining(['control-plane'])], ['worker-1', ['worker']], ['worker-2', ['worker']]]);
  });

  it('shows worker-2 drifting from worker-1 on the kubelet settings', async () => {
    const drift = (await c.get('/api/v1/correlations?kind=drift&node=worker-2')).body.items;
    const checks = drift.map((d: any) => d.evidence[0].checkId);
    expect(checks).toEqual(expect.arrayContaining(['cis-4.2.1', 'cis-4.2.2']));
    const anon = drift.find((d: any) => d.evidence[0].checkId === 'cis-4.2.1');
    expect(anon.evidence[0]).toMatchObject({ node: 'worker-2', status: 'fail' });
    expect(anon.evidence[1]).toMatchObject({ node: 'worker-1', status: 'pass' });
    expect((await c.get('/api/v1/correlations?kind=drift&node=worker-1')).body.items).toEqual([]);
  });

  it('shows unauthenticated exec on worker-2', async () => {
    const paths = (await c.get('/api/v1/correlations?kind=attack-path')).body.items;
    const exec = paths.filter((p: any) => p.rule === 'kubelet-unauthenticated-exec');
    expect(exec.map((p: any) => p.nodes)).toEqual([['worker-2']]);
    expect(exec[0].evidence.map((e: any) => e.checkId)).toEqual(expect.arrayContaining(['cis-4.2.1', 'cis-4.2.2']));
    expect(exec[0].title).toContain('0.0.0.0:10250');
  });
});
