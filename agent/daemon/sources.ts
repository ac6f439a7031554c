// What the daemon's fast path asks of the host, behind one interface: a cheap probe (the pid list, a signature of
// the listening sockets), targeted re-gathers (sockets, containers, kernel) and the container runtime's events.
// hostSources() implements it over today's gather functions; cheaper ones (an fd→inode cache per pid, one container
// re-read at a time, gather's own event client) replace this implementation, not the scheduler.
import { posix } from 'node:path';
import type { ContainersFact } from '../facts/containers.js';
import type { KernelFact } from '../facts/kernel.js';
import type { Snapshot } from '../facts/snapshot.js';
import type { SocketFact } from '../facts/sockets.js';
import { gatherContainers } from '../gather/containers/index.js';
import { HostAccess } from '../gather/host.js';
import { gatherKernel } from '../gather/kernel/index.js';
import type { GatherOptions } from '../gather/options.js';
import { gatherSockets } from '../gather/sockets/index.js';
import { parseProcNet } from '../gather/sockets/proc-net.js';
import { subscribeContainerdEvents } from './containerd-events.js';

/** One event of the container runtime, reduced to what the fast path needs. */
export interface ContainerEvent {
  /** containerd's topic: `/tasks/start`, `/tasks/exit`, `/containers/delete`, … */
  topic: string;
  containerId?: string;
  namespace?: string;
}

export interface ContainerEventHandlers {
  onEvent(event: ContainerEvent): void;
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
  /** Pids running now (one readdir of the proc root). */
  pids(): number[];
  /** A signature of the listening sockets of the host's network namespace: the same signature, the same listeners. */
  listeners(): string;
  /** Whether a change of the process set may have changed a component: a component's pid gone, or a new pid
   * running a component's program. */
  componentsMayHaveChanged(added: readonly number[], removed: readonly number[], snapshot: Snapshot): boolean;
  sockets(snapshot: Snapshot): SocketFact[];
  containers(snapshot: Snapshot): Promise<ContainersFact>;
  kernel(): KernelFact;
  /** Subscribes to the container runtime's events; undefined when there is no runtime socket that offers them. */
  containerEvents(handlers: ContainerEventHandlers): ContainerEventStream | undefined;
}

const TABLES = ['tcp', 'tcp6', 'udp', 'udp6'] as const;
const TABLE_MAX_BYTES = 16 * 1024 * 1024;
const TABLES_AT_LEAST_MS = 10_000;
/** containerd's sockets (its event service shares the CRI socket); CRI-O has no such stream. */
const CONTAINERD_SOCKETS = ['/run/containerd/containerd.sock', '/run/k3s/containerd/containerd.sock'];
/** Programs gather/components.ts recognises as components (argv[0]'s base name); a cheap filter before it runs. */
const COMPONENT_PROGRAMS = new Set(['kubelet', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy',
  'etcd', 'containerd', 'crio', 'dockerd', 'hyperkube', 'k3s', 'rke2']);

function programOf(host: HostAccess, pid: number): string | undefined {
  const r = host.readProc([pid, 'cmdline'], 4096);
  if (!r.ok || r.data.length === 0) return undefined;
  const argv0 = r.data.toString('utf8').split('\0')[0];
  // A process that rewrote its title has one space-separated argv[0].
  return posix.basename(argv0.split(/\s+/)[0] ?? '');
}

/** The fast path over today's gather functions: every re-gather is the whole fact, read as a scan reads it. */
export function hostSources(opts: GatherOptions): FastPathSources {
  // A fresh HostAccess per read: it caches resolved paths and user names for one scan's lifetime.
  const host = (): HostAccess => new HostAccess(opts);
  /** The tables as last read and what they said: unchanged text needs no parsing (an idle node's usual case). */
  let lastTables = '';
  let lastSignature = '';
  /** The socket counters as last read, and when the tables were last read. */
  let lastCounters = '';
  let tablesReadAt = 0;
  return {
    pids: () => host().listPids(),

    listeners() {
      const h = host();
      // The host's network namespace is pid 1's when visible (hostPID), else our own, as the socket scan decides.
      const prefix: (string | number)[] = h.readProcLink([1, 'ns', 'net']) !== undefined ? [1] : [];
      // Reading /proc/net/tcp walks the kernel's whole connection hash (milliseconds on a big host, even when nearly
      // empty); the socket counters cost microseconds. A new listener moves them, so the tables are read when they
      // moved, and at least every TABLES_AT_LEAST_MS in case one socket closed as another opened.
      const counters = ['sockstat', 'sockstat6'].map((f) => h.readProcText([...prefix, 'net', f], 64 * 1024) ?? '').join('\0')
        .replace(/ (mem|tw|orphan) \d+/g, '');
      const now = Date.now();
      if (counters.trim() !== '' && counters === lastCounters && now - tablesReadAt < TABLES_AT_LEAST_MS) return lastSignature;
      lastCounters = counters;
      tablesReadAt = now;
      const texts = TABLES.map((table) => h.readProcText([...prefix, 'net', table], TABLE_MAX_BYTES));
      const joined = texts.join('\0');
      if (joined === lastTables) return lastSignature;
      const keys: string[] = [];
      texts.forEach((text, i) => {
        if (text === undefined) return;
        for (const s of parseProcNet(text, TABLES[i]).sockets) keys.push(`${s.protocol} ${s.address} ${s.port} ${s.inode}`);
      });
      lastTables = joined;
      lastSignature = keys.sort().join('\n');
      return lastSignature;
    },

    componentsMayHaveChanged(added, removed, snapshot) {
      const componentPids = new Set(Object.values(snapshot.components).map((c) => c?.pid).filter((p) => p !== undefined));
      if (removed.some((pid) => componentPids.has(pid))) return true;
      const h = host();
      return added.some((pid) => COMPONENT_PROGRAMS.has(programOf(h, pid) ?? ''));
    },

    sockets: (snapshot) => gatherSockets(host(), snapshot.containers),
    containers: (snapshot) => gatherContainers(host(), opts, snapshot.components),
    kernel: () => gatherKernel(host()),

    containerEvents(handlers) {
      const h = host();
      const candidates = opts.criSocket ? [opts.criSocket] : CONTAINERD_SOCKETS;
      const socket = candidates.find((p) => !p.includes('crio') && h.exists(p));
      if (!socket) return undefined;
      let resolved: string;
      try { resolved = h.resolve(socket); } catch { return undefined; }
      return subscribeContainerdEvents(resolved, socket, handlers);
    },
  };
}
