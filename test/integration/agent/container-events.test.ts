// A privileged pod started through a real containerd while a real agent runs reaches a real collector through
// containerd's event stream: the agent runs with --container-watch events (the runtime state dir's changes are
// ignored) and a 10-minute rescan, so nothing but an event can make it look. The subscription survives a containerd
// restart: a pod started after it is reported the same way. (The event client is gather's,
// agent/gather/containers/events.ts, behind the daemon's FastPathSources.)
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDaemons, tempDir } from '../../harness/integration.js';
import { containerdBinaries, containerdLogTail, startContainerd, type ContainerdHarness } from '../../harness/containerd.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { privilegedPod } from '../containers/pods.js';
import { startAgent, startCollector, waitFor, type AgentProcess, type CollectorUnderTest, type StoredFindingView } from '../delivery/processes.js';

const NODE = 'events-node';

describeWithDaemons('container events: a new privileged pod reaches the collector', containerdBinaries(), () => {
  let dir: { path: string; cleanup(): void };
  let pki: TestPki;
  let collector: CollectorUnderTest;
  let h: ContainerdHarness;
  let agent: AgentProcess;

  beforeAll(async () => {
    dir = tempDir('events');
    pki = createTestPki(dir.path);
    h = await startContainerd();
    collector = await startCollector({ dataDir: join(dir.path, 'collector'), pki });
    agent = await startAgent({
      hostRoot: '/', procRoot: '/proc', outboxDir: join(dir.path, 'outbox'), node: NODE, transport: 'grpc',
      collector: collector.grpcAddr, tls: { ca: pki.ca, ...pki.client(NODE) },
      extra: ['--containerd-state-dir', h.state, '--cri-socket', h.socket, '--container-watch', 'events', '--rescan-interval', '10m'],
    });
    await waitFor('the first report', () => collector.lastReport(NODE), 60_000);
    await waitFor('the event subscription', async () => (await agent.metric('vigil_agent_container_events_subscribed')) === 1, 20_000);
  }, 240_000);
  afterAll(async () => {
    await agent?.stop();
    await h?.stop();
    await collector?.cleanup();
    dir?.cleanup();
  }, 120_000);

  /** The pod's container-privileged failure, once the collector holds it. */
  const privileged = (pod: string) => async (): Promise<StoredFindingView | undefined> => (await collector.findings(NODE))
    .find((f) => f.checkId === 'container-privileged' && f.status === 'fail' && !f.resolved && f.resource?.pod === pod);

  it('judges the pod as soon as its task starts, through the event stream', async () => {
    const started = performance.now();
    await h.runPod('priv-events', 'team-a', privilegedPod).catch((err: Error) => { throw new Error(`${err.message}\n${containerdLogTail(h)}`); });
    const ran = performance.now() - started;
    await waitFor('the privileged finding at the collector', privileged('priv-events'), 15_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${agent.output().slice(-3000)}`); });
    const total = performance.now() - started;
    expect((await agent.metric('vigil_agent_container_events_total{topic="/tasks/start"}')) ?? 0).toBeGreaterThan(0);
    // No full scan ran: the event path did it (and the state dir's changes were ignored).
    expect(agent.output()).toMatch(/"trigger":"containers[^"]*"[^\n]*"msg":"change queued"/);
    expect(agent.output()).not.toMatch(/"trigger":"(interval|processes|confirm)"/);
    expect(total - ran).toBeLessThan(5_000);
  }, 120_000);

  it('survives a containerd restart: resubscribes, and a pod started afterwards is judged the same way', async () => {
    const before = (await agent.metric('vigil_agent_container_events_total{topic="/tasks/start"}')) ?? 0;
    await h.restart();
    await waitFor('the subscription back', async () => (await agent.metric('vigil_agent_container_events_subscribed')) === 1
      && agent.output().split('subscribed to container runtime events').length > 2, 30_000);
    await h.runPod('priv-after-restart', 'team-b', privilegedPod);
    await waitFor('the second privileged finding', privileged('priv-after-restart'), 15_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${agent.output().slice(-3000)}`); });
    expect((await agent.metric('vigil_agent_container_events_total{topic="/tasks/start"}')) ?? 0).toBeGreaterThan(before);
  }, 120_000);
}, { needsRoot: true });
