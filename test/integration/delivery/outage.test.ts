// Outages: the collector is killed in the middle of a stream of changes and restarted, nats-server is
// restarted, the agent is restarted. Afterwards the collector holds every change exactly once, and the
// agent's sequence numbers continue from its outbox.
import { chmodSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { describeWithDaemons, tempDir } from '../../harness/integration.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { NATS_SERVER, startNats, type NatsHarness } from '../../harness/nats.js';
import { clusterIdentity, type ClusterIdentity } from '../../harness/service-accounts.js';
import { startAgent, startCollector, waitFor, type AgentProcess, type AgentArgs, type CollectorUnderTest } from './processes.js';

const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

describeWithDaemons('delivery: outages lose nothing and store nothing twice', { 'nats-server': NATS_SERVER }, () => {
  let dir: { path: string; cleanup(): void };
  let pki: TestPki;
  let nats: NatsHarness;
  let collector: CollectorUnderTest;
  let identity: ClusterIdentity;
  let host: BuiltHost;
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    dir = tempDir('outage');
    pki = createTestPki(dir.path);
    identity = await clusterIdentity(dir.path);
    nats = await startNats();
    collector = await startCollector({ dataDir: join(dir.path, 'collector'), pki, natsUrl: nats.url, serviceAccounts: identity.serviceAccounts });
    host = buildHost(kubeadmControlPlane(), join(dir.path, 'host'));
  });
  afterAll(async () => {
    await agent?.stop();
    await collector?.cleanup();
    await nats?.cleanup();
    dir?.cleanup();
  });

  for (const transport of ['both', 'nats'] as const) it(`kill/restart the collector, restart nats-server and the agent (${transport}): every change once, seq continues`, async () => {
    const node = `cp-outage-${transport}`;
    const args: AgentArgs = {
      hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, `outbox-${transport}`), node, transport,
      collector: transport === 'both' ? collector.grpcAddr : undefined, natsUrl: nats.url,
      tls: transport === 'both' ? { ca: pki.ca } : undefined, tokenFile: await identity.tokenFile(node),
    };
    const hostRoot = host.hostRoot;
    try {
      await outageScenario(args, hostRoot, node, transport);
    } finally {
      await agent?.stop();
      agent = undefined;
      chmodSync(join(hostRoot, MANIFEST), 0o600);
    }
  }, 180_000);

  async function outageScenario(args: AgentArgs, hostRoot: string, node: string, transport: string): Promise<void> {
    agent = await startAgent(args);
    const cis = await waitFor('the initial report', async () =>
      (await collector.findings(node)).find((f) => f.checkId === 'cis-1.1.1'));
    expect(cis.status, `${JSON.stringify(cis.evidence)} ${(statSync(join(hostRoot, MANIFEST)).mode & 0o777).toString(8)}`).toBe('pass');

    let toggles = 0;
    /** One status flip of CIS 1.1.1, waited for at the agent (queued as its own delta), not at the collector. */
    const toggle = async (): Promise<void> => {
      const before = (await agent!.metric('vigil_agent_deltas_total')) ?? 0;
      toggles++;
      chmodSync(join(hostRoot, MANIFEST), toggles % 2 === 1 ? 0o644 : 0o600);
      await waitFor(`change ${toggles} queued by the agent`, async () => ((await agent!.metric('vigil_agent_deltas_total')) ?? 0) > before);
    };

    await toggle();
    await toggle();
    await collector.kill();
    await toggle();
    await toggle();
    // gRPC cannot deliver while the collector is down (JetStream still takes the messages).
    if (transport === 'both') expect(await agent.metric('vigil_agent_outbox_depth')).toBeGreaterThan(0);
    await collector.start();
    await toggle();
    await nats.restart();
    await toggle();

    const seqBeforeRestart = (await agent.metric('vigil_agent_last_seq'))!;
    await agent.stop();
    agent = await startAgent(args);
    // The restarted agent queues its start-up snapshot with the next number from its outbox.
    expect(await agent.metric('vigil_agent_last_seq')).toBe(seqBeforeRestart + 1);
    await toggle();

    const finalSeq = (await agent.metric('vigil_agent_last_seq'))!;
    // Empty outbox: gRPC acked everything (an ack means stored) and JetStream holds everything.
    await waitFor('the agent outbox to drain', async () => (await agent!.metric('vigil_agent_outbox_depth')) === 0, 60_000);
    const changedEvents = async (): Promise<number> => (await collector.events(node, cis.id)).filter((e) => e === 'changed').length;
    await waitFor('every change at the collector', async () => (await changedEvents()) >= toggles, 60_000)
      .catch(async (err) => { throw new Error(`${(err as Error).message}: events ${JSON.stringify(await collector.events(node, cis.id))}, toggles ${toggles}, seq ${await collector.lastSeq(node)} vs ${finalSeq}; ${collector.output().slice(-3000)}`); });
    // Let the NATS consumer deliver its copies too: they must all be duplicates.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await changedEvents()).toBe(toggles);
    const storedSeq = await collector.lastSeq(node);
    if (storedSeq !== undefined) expect(storedSeq).toBe(finalSeq);
    const final = (await collector.findings(node)).find((f) => f.id === cis.id)!;
    expect(final.status).toBe(toggles % 2 === 1 ? 'fail' : 'pass');
    const sensitive = (await collector.findings(node)).find((f) => f.checkId === 'vigil.watch.sensitive-file-changed')!;
    expect((sensitive.evidence.value as { after: { mode: string } }).after.mode).toBe(toggles % 2 === 1 ? '0644' : '0600');
  }

  it('an agent killed during an outage restarts over a torn outbox entry: only that message is lost, it says so', async () => {
    const node = 'cp-torn';
    const args: AgentArgs = {
      hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-torn'), node, transport: 'grpc',
      collector: collector.grpcAddr, tls: { ca: pki.ca, ...pki.client(node) },
    };
    try {
      agent = await startAgent(args);
      const cis = await waitFor('the initial report', async () => (await collector.findings(node)).find((f) => f.checkId === 'cis-1.1.1'));
      await collector.kill();
      for (let i = 1; i <= 3; i++) {
        const before = (await agent.metric('vigil_agent_deltas_total')) ?? 0;
        chmodSync(join(host.hostRoot, MANIFEST), i % 2 === 1 ? 0o644 : 0o600);
        await waitFor(`change ${i} queued`, async () => ((await agent!.metric('vigil_agent_deltas_total')) ?? 0) > before);
      }
      await agent.kill();
      agent = undefined;
      // A message torn as a crash in the middle of its write leaves it (before writes were checked and synced).
      const entries = readdirSync(args.outboxDir).filter((n) => /^\d+\.json$/.test(n)).sort();
      expect(entries.length).toBeGreaterThanOrEqual(3);
      truncateSync(join(args.outboxDir, entries[entries.length - 2]), 25);
      await collector.start();
      agent = await startAgent(args);
      expect(agent.output()).toMatch(/dropping an unreadable outbox entry \(only this message is lost\)/);
      expect(await agent.metric('vigil_agent_outbox_unreadable_entries_total')).toBe(1);
      await waitFor('the outbox drained', async () => (await agent!.metric('vigil_agent_outbox_depth')) === 0, 60_000);
      // The start-up snapshot holds the current state whatever was lost.
      await waitFor('the current state at the collector', async () => (await collector.findings(node)).find((f) => f.id === cis.id && f.status === 'fail'));
    } finally {
      await agent?.stop();
      agent = undefined;
      chmodSync(join(host.hostRoot, MANIFEST), 0o600);
    }
  }, 120_000);

  it('a collector that lost its data asks for a full snapshot and gets the whole state back', async () => {
    const node = 'cp-amnesia';
    const dataDir = join(dir.path, 'collector-amnesia');
    const forgetful = await startCollector({ dataDir, pki, serviceAccounts: identity.serviceAccounts });
    try {
      agent = await startAgent({
        hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-amnesia'), node, transport: 'grpc',
        collector: forgetful.grpcAddr, tls: { ca: pki.ca }, tokenFile: await identity.tokenFile(node),
      });
      const all = await waitFor('the initial report', async () => {
        const fs = await forgetful.findings(node);
        return fs.length > 0 ? fs : undefined;
      });
      await forgetful.kill();
      rmSync(dataDir, { recursive: true, force: true });
      await forgetful.start();
      const before = (await agent.metric('vigil_agent_resync_requests_total')) ?? 0;
      chmodSync(join(host.hostRoot, MANIFEST), 0o644);
      // The delta arrives at a collector that holds nothing for the node: it asks for a full snapshot.
      await waitFor('the resync request', async () => ((await agent!.metric('vigil_agent_resync_requests_total')) ?? 0) > before)
        .catch((err: Error) => { throw new Error(`${err.message}\nagent: ${agent?.output().slice(-2500)}\ncollector: ${forgetful.output().slice(-2500)}`); });
      await waitFor('the whole state back', async () => {
        const fs = (await forgetful.findings(node)).filter((f) => !f.resolved);
        return fs.length >= all.length && fs.some((f) => f.checkId === 'cis-1.1.1' && f.status === 'fail') ? true : undefined;
      });
      expect(forgetful.output()).toMatch(/sequence gap/);
    } finally {
      await agent?.stop();
      agent = undefined;
      await forgetful.cleanup();
      chmodSync(join(host.hostRoot, MANIFEST), 0o600);
    }
  }, 120_000);
});
