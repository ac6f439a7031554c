// containerd's event stream against a real containerd: a pod's TaskStart arrives with its container id, the
// container is judged at once through a targeted re-gather, and the subscription survives a containerd restart.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { containerdEvents, type ContainerdEvent, type SubscriptionEvent } from '../../../agent/gather/containers/events.js';
import { gatherSnapshot } from '../../../agent/gather/index.js';
import { regather } from '../../../agent/gather/probe.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { containersChecks } from '../../../agent/evaluate/checks/containers/index.js';
import { Backoff } from '../../../common/backoff.js';
import { describeWithDaemons } from '../../harness/integration.js';
import { containerdBinaries, containerdLogTail, startContainerd, type ContainerdHarness } from '../../harness/containerd.js';
import { privilegedPod, restrictedPod } from './pods.js';

type Seen = ContainerdEvent | SubscriptionEvent;

describeWithDaemons('real containerd: the event stream', containerdBinaries(), () => {
  let h: ContainerdHarness;
  const stop = new AbortController();
  const seen: Seen[] = [];
  let consumer: Promise<void> | undefined;

  /** Resolves with the first event from index `from` on that matches, within `ms`. */
  async function waitFor(match: (e: Seen) => boolean, from = 0, ms = 30_000): Promise<Seen> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = seen.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no matching event within ${ms} ms; seen: ${JSON.stringify(seen.slice(from).map((e) => e.kind))}\n${containerdLogTail(h)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    h = await startContainerd();
    consumer = (async () => {
      for await (const e of containerdEvents({ socket: h.socket, signal: stop.signal, backoff: new Backoff({ baseMs: 100, maxMs: 1_000 }) })) seen.push(e);
    })();
  }, 240_000);

  afterAll(async () => {
    stop.abort();
    await consumer;
    await h?.stop();
  }, 120_000);

  it('a started pod: TaskStart with its container id, and the container judged at once by id', async () => {
    await waitFor((e) => e.kind === 'subscribed');
    const opts = { hostRoot: '/', procRoot: '/proc', containerdStateDir: h.state, criSocket: h.socket };
    const before = await gatherSnapshot(opts);
    const from = seen.length;
    const pod = await h.runPod('events-priv', 'team-e', privilegedPod);
    const [id] = pod.containerIds;
    const start = await waitFor((e) => e.kind === 'task-start' && e.containerId === id, from);
    expect(start).toMatchObject({ namespace: 'k8s.io', pid: expect.any(Number) });
    expect((start as { pid: number }).pid).toBeGreaterThan(0);
    await waitFor((e) => e.kind === 'task-start' && e.containerId === pod.sandboxId, from);
    await waitFor((e) => e.kind === 'container-create' && e.containerId === id, from);

    const { snapshot, changed } = await regather(before, { containers: [id] }, opts);
    expect(changed.containers).toContain(id);
    const judged = evaluate(snapshot, containersChecks).filter((f) => f.resource.kind === 'container' && f.resource.id === id);
    expect(judged.find((f) => f.checkId === 'container-privileged')).toMatchObject({ status: 'fail' });
  }, 120_000);

  it('containerd restarts: the subscription recovers and sees the next start', async () => {
    const from = seen.length;
    await h.restart();
    const down = await waitFor((e) => e.kind === 'disconnected', from);
    expect(down).toMatchObject({ kind: 'disconnected', retryInMs: expect.any(Number) });
    await waitFor((e) => e.kind === 'subscribed' && e.resumed, from);
    const after = seen.length;
    const pod = await h.runPod('events-after-restart', 'team-e', restrictedPod);
    await waitFor((e) => e.kind === 'task-start' && e.containerId === pod.containerIds[0], after);
  }, 120_000);
});
