// What the daemon's fast path asks of the host, behind one interface the scheduler's tests can steer: gather's probe
// (agent/gather/probe.ts), its targeted re-gathers, the kernel settings, and containerd's event stream
// (agent/gather/containers/events.ts). The scheduler decides when; these read.
import type { KernelFact } from '../facts/kernel.js';
import type { Snapshot } from '../facts/snapshot.js';
import { containerdEvents, type ContainerdEvent } from '../gather/containers/events.js';
import type { HostAccess } from '../gather/host.js';
import { gatherKernel } from '../gather/kernel/index.js';
import type { GatherOptions } from '../gather/options.js';
import { HostProbe, regather } from '../gather/probe.js';

export interface ContainerEventHandlers {
  onEvent(event: ContainerdEvent): void;
  /** Subscribed (again): events flow from now on; what happened before must be re-read. */
  onSubscribed(): void;
  /** The subscription broke or could not be made; it is tried again with backoff. */
  onUnavailable(reason: string): void;
}

export interface ContainerEventStream {
  /** The runtime socket, as the host names it. */
  readonly socket: string;
  close(): Promise<void>;
}

export interface FastPathSources {
  /** HostProbe.componentsMayHaveChanged: a component's pid gone, or a new pid running a component's program. */
  componentsMayHaveChanged(snapshot: Snapshot): boolean;
  /** HostProbe.listeners: a signature of the host's listening sockets; the same signature, the same listeners. */
  listeners(): string;
  /** gather's regather: only what `what` names is read again; unchanged parts stay the same objects. */
  regather: typeof regather;
  kernel(): KernelFact;
  /** Subscribes to the container runtime's events; undefined when there is no runtime socket that offers them. */
  containerEvents(handlers: ContainerEventHandlers): ContainerEventStream | undefined;
}

/** containerd's sockets (its event service shares the CRI socket); CRI-O has no such stream. */
const CONTAINERD_SOCKETS = ['/run/containerd/containerd.sock', '/run/k3s/containerd/containerd.sock'];

/** The fast path over gather: `host` is the daemon's long-lived HostAccess (the probe reads only /proc through it). */
export function hostSources(opts: GatherOptions, host: HostAccess): FastPathSources {
  const probe = new HostProbe(host);
  return {
    componentsMayHaveChanged: (snapshot) => probe.componentsMayHaveChanged(snapshot),
    listeners: () => probe.listeners(),
    regather,
    kernel: () => gatherKernel(host),

    containerEvents(handlers) {
      const candidates = opts.criSocket ? [opts.criSocket] : CONTAINERD_SOCKETS;
      const socket = candidates.find((p) => !p.includes('crio') && host.exists(p));
      if (!socket) return undefined;
      let resolved: string;
      try { resolved = host.resolve(socket); } catch { return undefined; }
      const abort = new AbortController();
      const consumed = (async () => {
        try {
          for await (const e of containerdEvents({ socket: resolved, signal: abort.signal })) {
            if (e.kind === 'subscribed') handlers.onSubscribed();
            else if (e.kind === 'disconnected') handlers.onUnavailable(`${socket}: ${e.reason}`);
            else handlers.onEvent(e);
          }
        } catch (err) {
          // Not the runtime (it is retried inside the stream): this agent cannot subscribe at all (its schema).
          handlers.onUnavailable(`${socket}: ${(err as Error).message}`);
        }
      })();
      return {
        socket,
        async close() {
          abort.abort();
          await consumed;
        },
      };
    },
  };
}
