// A running agent watching a fixture host tree, a real nats-server, the collector: a file mode change
// reaches the collector's store, over gRPC and over NATS JetStream, the agent proving its node with its
// ServiceAccount token (or, on gRPC, with a client certificate: mTLS stays an alternative).
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { describeWithDaemons, tempDir } from '../../harness/integration.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { NATS_SERVER, startNats, type NatsHarness } from '../../harness/nats.js';
import { clusterIdentity, type ClusterIdentity } from '../../harness/service-accounts.js';
import { startAgent, startCollector, waitFor, type AgentProcess, type CollectorUnderTest } from './processes.js';

const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
const NODE = 'cp-1';

describeWithDaemons('delivery: a file mode change reaches the collector', { 'nats-server': NATS_SERVER }, () => {
  let dir: { path: string; cleanup(): void };
  let pki: TestPki;
  let nats: NatsHarness;
  let collector: CollectorUnderTest;
  let identity: ClusterIdentity;

  beforeAll(async () => {
    dir = tempDir('delivery');
    pki = createTestPki(dir.path);
    identity = await clusterIdentity(dir.path);
    nats = await startNats();
    collector = await startCollector({ dataDir: join(dir.path, 'collector'), pki, natsUrl: nats.url, serviceAccounts: identity.serviceAccounts });
  });
  afterAll(async () => {
    await collector?.cleanup();
    await nats?.cleanup();
    dir?.cleanup();
  });

  it('sends a full snapshot every --full-interval while nothing changes, so the node stays reporting', async () => {
    const host: BuiltHost = buildHost(kubeadmControlPlane(), join(dir.path, 'host-idle'));
    const node = 'cp-idle';
    let agent: AgentProcess | undefined;
    try {
      agent = await startAgent({
        hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-idle'), node, transport: 'grpc',
        collector: collector.grpcAddr, tls: { ca: pki.ca, ...pki.client(node) },
        extra: ['--rescan-interval', '500ms', '--full-interval', '1s'],
      });
      const first = await waitFor('the first report', () => collector.lastReport(node));
      const firstSeq = (await agent.metric('vigil_agent_last_seq'))!;
      await waitFor('two periodic snapshots', async () => ((await agent!.metric('vigil_agent_last_seq'))! >= firstSeq + 2 ? true : undefined));
      await waitFor('the collector to see the node again', async () => ((await collector.lastReport(node))! > first ? true : undefined));
      expect(agent.output()).toMatch(/periodic full snapshot queued/);
      // Nothing changed on the host, so nothing but snapshots was queued.
      expect(await agent.metric('vigil_agent_deltas_total')).toBe(0);
    } finally {
      await agent?.stop();
      host.cleanup();
    }
  }, 60_000);

  for (const transport of ['grpc', 'nats'] as const) {
    it(`over ${transport}`, async () => {
      const host: BuiltHost = buildHost(kubeadmControlPlane(), join(dir.path, `host-${transport}`));
      const node = `${NODE}-${transport}`;
      let agent: AgentProcess | undefined;
      try {
        agent = await startAgent({
          hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, `outbox-${transport}`), node, transport,
          collector: transport === 'grpc' ? collector.grpcAddr : undefined,
          natsUrl: transport === 'nats' ? nats.url : undefined,
          tls: transport === 'grpc' ? { ca: pki.ca } : undefined, tokenFile: await identity.tokenFile(node),
        });
        const modeCheck = await waitFor('the initial report at the collector', async () =>
          (await collector.findings(node)).find((f) => f.checkId === 'cis-1.1.1'));
        expect(modeCheck.status).toBe('pass');

        chmodSync(join(host.hostRoot, MANIFEST), 0o644);
        const after = await waitFor('the mode change at the collector', async () => {
          const fs = await collector.findings(node);
          const cis = fs.find((f) => f.checkId === 'cis-1.1.1' && f.status === 'fail');
          const changed = fs.find((f) => f.checkId === 'vigil.watch.sensitive-file-changed');
          return cis && changed ? { cis, changed } : undefined;
        });
        const value = after.changed.evidence.value as { change: string; before: { mode: string }; after: { mode: string; sha256: string } };
        expect(value.change).toBe('metadata');
        expect(value.before.mode).toBe('0600');
        expect(value.after.mode).toBe('0644');
        expect(value.after.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect((await collector.events(node, after.cis.id)).filter((e) => e === 'changed')).toHaveLength(1);
      } finally {
        await agent?.stop();
        host.cleanup();
      }
    }, 90_000);
  }
});
