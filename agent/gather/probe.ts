// The daemon's fast path (every second): a cheap probe of what changes without a file to watch — the process set
// and the listener set — and a re-gather of only what changed, merged into the last snapshot.
//
//   const host = new HostAccess(opts);
//   let last = probe(host);                                  // each tick:
//   const now = probe(host);
//   const what = probeChanges(last, now);                    // { processes, listeners }
//   if (what.processes || what.listeners) {
//     const r = await regather(snapshot, { processes: what.processes, sockets: what.listeners }, opts, host);
//     if (r.changed.components || r.changed.sockets) snapshot = r.snapshot;   // then re-judge
//   }
//   last = now;
//   // and on a runtime event (containers/events.ts): regather(snapshot, { containers: [id] }, opts, host)
//
// A probe reads the proc root's pid list (one readdir) and the host network namespace's socket tables (one read
// each), and hashes the pids and the listening sockets only: established connections come and go every second and
// are not posture. It costs ~1.4 ms of CPU here, nearly all in the kernel: every read of /proc/net/tcp{,6} walks the
// whole TCP hash table (2^18 buckets on this VM) whatever the namespace holds. A regather of processes re-reads every command line (about one read per pid), and only
// when a component's pid or command line changed does it re-gather what follows from components.
import { createHash } from 'node:crypto';
import type { ComponentFact, ComponentName, IgnoredProcess, Snapshot } from '../facts/snapshot.js';
import type { ContainerFact } from '../facts/containers.js';
import type { SocketFact, SocketProtocol } from '../facts/sockets.js';
import { HostAccess } from './host.js';
import type { GatherOptions } from './options.js';
import { discoverProcesses, type Discovery } from './components.js';
import { gatherComponentFacts } from './index.js';
import { gatherContainers } from './containers/index.js';
import { scanSockets } from './sockets/index.js';
import { parseProcNet } from './sockets/proc-net.js';

interface ProbeState {
  /** Hash of the proc root's pid list. */
  pids: string;
  /** Hash of the listening sockets (protocol, address, port, inode) of the host's network namespace. */
  listeners: string;
  pidCount: number;
  listenerCount: number;
}

const TABLES: SocketProtocol[] = ['tcp', 'tcp6', 'udp', 'udp6'];

const digest = (text: string): string => createHash('sha1').update(text).digest('base64url');

/** What the fast path compares from one tick to the next. */
export function probe(host: HostAccess): ProbeState {
  const pids = host.listPids();
  // The host's network namespace: pid 1's when we see it (hostPID), else our own (see sockets/index.ts).
  const prefix: (string | number)[] = host.readProcLink([1, 'ns', 'net']) !== undefined ? [1] : [];
  const listeners: string[] = [];
  for (const protocol of TABLES) {
    const text = host.readProcText([...prefix, 'net', protocol], 16 * 1024 * 1024);
    if (text === undefined) continue;
    for (const s of parseProcNet(text, protocol).sockets) listeners.push(`${s.protocol} ${s.address} ${s.port} ${s.inode}`);
  }
  listeners.sort();
  return { pids: digest(pids.join(',')), listeners: digest(listeners.join('\n')), pidCount: pids.length, listenerCount: listeners.length };
}

export function probeChanges(before: ProbeState, after: ProbeState): { processes: boolean; listeners: boolean } {
  return { processes: before.pids !== after.pids, listeners: before.listeners !== after.listeners };
}

interface RegatherScope {
  /** Re-discover components; re-gather everything that follows from them when one changed. */
  processes?: boolean;
  /** Re-read the socket tables and owners (new sockets only are attributed: sockets/owners.ts). */
  sockets?: boolean;
  /** Re-gather these containers (and their sandboxes); ids no longer there are removed. */
  containers?: readonly string[];
}

interface Regathered {
  /** A new snapshot (the old one is not changed); the same object when nothing changed. */
  snapshot: Snapshot;
  changed: {
    /** Which components appeared, vanished or run with another pid or command line. */
    components: ComponentName[];
    sockets: boolean;
    /** Container ids whose facts were replaced, added or removed. */
    containers: string[];
  };
}

/**
 * Re-gathers the parts of `snapshot` named in `what` and merges them in. `host` may be the daemon's long-lived
 * HostAccess (its caches expire by themselves); without one, a HostAccess is made and closed.
 */
export async function regather(snapshot: Snapshot, what: RegatherScope, opts: GatherOptions, host?: HostAccess): Promise<Regathered> {
  const own = host ?? new HostAccess(opts);
  try {
    let next = snapshot;
    const changed: Regathered['changed'] = { components: [], sockets: false, containers: [] };
    if (what.processes) {
      const processes = discoverProcesses(own);
      changed.components = changedComponents(snapshot, processes);
      if (changed.components.length > 0 || !sameIgnored(snapshot.ignoredProcesses, processes.ignored)) {
        const parts = await gatherComponentFacts(own, opts, processes);
        next = { ...next, ...parts };
        if (!parts.ignoredProcesses) delete next.ignoredProcesses;
      }
    }
    if (what.containers && what.containers.length > 0) {
      const fresh = await gatherContainers(own, opts, next.components, new Set(what.containers));
      const replaced = new Set([...what.containers, ...fresh.items.map((c) => c.id)]);
      const items: ContainerFact[] = [...next.containers.items.filter((c) => !replaced.has(c.id)), ...fresh.items]
        .sort((a, b) => a.id.localeCompare(b.id));
      const before = new Map(next.containers.items.map((c) => [c.id, JSON.stringify(c)]));
      const after = new Map(fresh.items.map((c) => [c.id, JSON.stringify(c)]));
      changed.containers = [...replaced].filter((id) => before.get(id) !== after.get(id)).sort();
      if (changed.containers.length > 0) next = { ...next, containers: { ...next.containers, items } };
    }
    if (what.sockets || changed.containers.length > 0) {
      const sockets = scanSockets(own, next.containers).sockets;
      changed.sockets = socketKey(sockets) !== socketKey(next.sockets);
      if (changed.sockets) next = { ...next, sockets };
    }
    return { snapshot: next, changed };
  } finally {
    if (!host) own.close();
  }
}

/** The identity of a process-run component: a new pid or command line is a new component to judge. */
const identity = (c: { name: string; source: string; pid?: number; argv: string[]; candidates?: number[] }): string =>
  `${c.source}|${c.pid ?? ''}|${c.candidates?.join(',') ?? ''}|${c.argv.join('\0')}`;

function changedComponents(snapshot: Snapshot, processes: Discovery): ComponentName[] {
  const before = new Map<ComponentName, string>();
  for (const c of Object.values(snapshot.components) as ComponentFact[]) {
    if (c && c.source !== 'manifest') before.set(c.name, identity(c));
  }
  const after = new Map<ComponentName, string>();
  for (const c of Object.values(processes.components)) if (c) after.set(c.name, identity(c));
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}

function sameIgnored(a: IgnoredProcess[] | undefined, b: IgnoredProcess[] | undefined): boolean {
  const key = (l: IgnoredProcess[] | undefined): string => (l ?? []).map((p) => `${p.pid}:${p.component}`).sort().join(',');
  return key(a) === key(b);
}

const socketKey = (sockets: readonly SocketFact[]): string =>
  sockets.map((s) => `${s.protocol} ${s.address} ${s.port} ${s.inode} ${s.pid ?? ''} ${s.containerId ?? ''}`).join('\n');
