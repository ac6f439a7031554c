// The fast path's side of the host: a cheap probe of what changes without a file to watch (the process set and the
// listener set) and targeted re-gathers merged into the last snapshot. When to look is the daemon's choice
// (agent/daemon/scheduler.ts); what a look reads, and what it costs, is decided here.
//
//   const probe = new HostProbe(host);                      // long-lived: it remembers what it saw
//   probe.componentsMayHaveChanged(snapshot); probe.listeners();   // the baseline
//   // each tick:
//   if (probe.componentsMayHaveChanged(snapshot)) r = await regather(snapshot, { processes: true }, opts);
//   if (probe.listeners() !== last) r = await regather(snapshot, { sockets: true }, opts);
//   // on a runtime event (containers/events.ts): regather(snapshot, { containers: [id], sockets: true }, opts)
//
// What a look costs (measured on the project's VM, ~85 pids; `npm run bench fastpath` records it): the pid list is
// one readdir (~0.06 ms). Every read of /proc/net/tcp walks the kernel's whole TCP hash table (0.7–3.5 ms, even
// when nearly empty), while /proc/net/sockstat{,6} cost ~0.015 ms together: the tables are read only when the
// socket counters moved (in use, orphaned, in TIME_WAIT, allocated), and at least every second: a socket that closed
// as another opened can leave them as they were, and on a shared host that happened to 1 listener in 40 (BENCHMARKS.md,
// fast path), which then waited for this floor. Reading the tables every tick instead cost ~1.8 ms per tick; once a
// second, ~0.2 % of a core on this VM.
import { createHash } from 'node:crypto';
import type { ComponentFact, ComponentName, IgnoredProcess, Snapshot } from '../facts/snapshot.js';
import type { ContainerFact } from '../facts/containers.js';
import type { SocketFact, SocketProtocol } from '../facts/sockets.js';
import { HostAccess } from './host.js';
import type { GatherOptions } from './options.js';
import { discoverProcesses, runsComponentProgram, type Discovery } from './components.js';
import { gatherComponentFacts } from './index.js';
import { gatherContainers } from './containers/index.js';
import { scanSockets } from './sockets/index.js';
import { parseProcNet } from './sockets/proc-net.js';

const TABLES: SocketProtocol[] = ['tcp', 'tcp6', 'udp', 'udp6'];
const TABLE_MAX_BYTES = 16 * 1024 * 1024;
const TABLES_AT_LEAST_MS = 1_000;
/** Enough of a command line for argv[0] and a subcommand (hyperkube, k3s). */
const CMDLINE_HEAD = 4096;
/**
 * The kernel's socket counters per protocol: hashed (bound, listening or connected) sockets, and for TCP the orphaned,
 * TIME_WAIT and allocated ones. A new listener moves `inuse`; the others make a coincidence (one socket gone as the
 * listener came) show more often. `mem` is left out: it moves with every buffered byte.
 */
const COUNTERS = /^(TCP6?|UDP6?): inuse (\d+)(?: orphan (\d+) tw (\d+) alloc (\d+))?/gm;

const digest = (text: string): string => createHash('sha1').update(text).digest('base64url');

/** Pids whose end may change a component: every component's, every candidate's, every ignored look-alike's. */
function watchedPids(snapshot: Snapshot): Set<number> {
  const pids = new Set<number>();
  for (const c of Object.values(snapshot.components) as Array<ComponentFact | undefined>) {
    if (c?.pid !== undefined) pids.add(c.pid);
    for (const p of c?.candidates ?? []) pids.add(p);
  }
  for (const p of snapshot.ignoredProcesses ?? []) pids.add(p.pid);
  return pids;
}

/** What the fast path compares from one tick to the next. Keep one per host: it remembers the last look. */
export class HostProbe {
  private known?: Set<number>;
  /** New pids of the last look that ran no component's program: read once more (below). */
  private recheck: number[] = [];
  private lastCounters = '';
  private lastTables = '';
  private lastSignature = '';
  private tablesReadAt = 0;

  /** `host` may live as long as the probe: a probe reads only /proc, which HostAccess does not cache. */
  constructor(private readonly host: HostAccess, private readonly now: () => number = Date.now) {}

  /**
   * Whether a component may have started, stopped or been replaced since the last call: a pid of the snapshot's
   * components (or candidates, or ignored look-alikes) gone, or a new pid running a component's program. A new pid
   * is read once more at the next call: caught between fork and exec, it still shows its parent's command line.
   * The first call takes the baseline and says false.
   */
  componentsMayHaveChanged(snapshot: Snapshot): boolean {
    const pids = this.host.listPids();
    const before = this.known;
    const now = new Set(pids);
    this.known = now;
    if (!before) return false;
    let changed = false;
    const watched = watchedPids(snapshot);
    for (const pid of before) if (!now.has(pid) && watched.has(pid)) changed = true;
    const again = this.recheck.filter((pid) => now.has(pid));
    this.recheck = [];
    for (const pid of pids) {
      if (before.has(pid)) continue;
      if (this.runsComponent(pid)) changed = true;
      else this.recheck.push(pid);
    }
    for (const pid of again) if (this.runsComponent(pid)) changed = true;
    return changed;
  }

  /** A signature of the listening sockets of the host's network namespace: the same signature, the same listeners. */
  listeners(): string {
    // The host's network namespace is pid 1's when visible (hostPID), else our own, as the socket scan decides.
    const prefix: (string | number)[] = this.host.readProcLink([1, 'ns', 'net']) !== undefined ? [1] : [];
    const counters = ['sockstat', 'sockstat6']
      .map((f) => [...(this.host.readProcText([...prefix, 'net', f], 64 * 1024) ?? '').matchAll(COUNTERS)]
        .map((m) => `${m[1]}=${m.slice(2).filter((n) => n !== undefined).join('/')}`).join(' '))
      .join(' ').trim();
    const now = this.now();
    if (counters !== '' && counters === this.lastCounters && now - this.tablesReadAt < TABLES_AT_LEAST_MS) return this.lastSignature;
    this.lastCounters = counters;
    this.tablesReadAt = now;
    const texts = TABLES.map((table) => this.host.readProcText([...prefix, 'net', table], TABLE_MAX_BYTES));
    // Unchanged text needs no parsing (an idle node's usual case); only its digest is kept, not the tables.
    const tables = digest(texts.join('\0'));
    if (tables === this.lastTables) return this.lastSignature;
    const keys: string[] = [];
    texts.forEach((text, i) => {
      if (text === undefined) return;
      for (const s of parseProcNet(text, TABLES[i]).sockets) keys.push(`${s.protocol} ${s.address} ${s.port} ${s.inode}`);
    });
    this.lastTables = tables;
    this.lastSignature = digest(keys.sort().join('\n'));
    return this.lastSignature;
  }

  private runsComponent(pid: number): boolean {
    const head = this.host.readProcHead([pid, 'cmdline'], CMDLINE_HEAD);
    if (!head || head.length === 0) return false; // gone, or a kernel thread
    return runsComponentProgram(head.toString('utf8').split('\0'));
  }
}

interface RegatherScope {
  /** Re-discover components; re-gather everything that follows from them when one changed. */
  processes?: boolean;
  /** Re-read the socket tables and owners (new sockets only are attributed: sockets/owners.ts). */
  sockets?: boolean;
  /** Re-gather these containers (and their sandboxes; ids no longer there are removed), or all of them. */
  containers?: readonly string[] | 'all';
}

interface Regathered {
  /**
   * A new snapshot (the old one is not changed); the same object when nothing changed. A part that did not change
   * is the very same object as before (`components`, `containers`, `sockets`), so `!==` says what changed.
   */
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
 * Re-gathers the parts of `snapshot` named in `what` and merges them in. `host` may be a long-lived HostAccess; without
 * one, a HostAccess is made and closed (a re-gather of processes opens per-process views, which a scan's HostAccess
 * keeps).
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
    if (what.containers === 'all') {
      const fresh = await gatherContainers(own, opts, next.components);
      const before = new Map(next.containers.items.map((c) => [c.id, JSON.stringify(c)]));
      const after = new Map(fresh.items.map((c) => [c.id, JSON.stringify(c)]));
      changed.containers = [...new Set([...before.keys(), ...after.keys()])].filter((id) => before.get(id) !== after.get(id)).sort();
      const rest = (c: Snapshot['containers']): string => JSON.stringify({ ...c, items: [] });
      if (changed.containers.length > 0 || rest(next.containers) !== rest(fresh)) next = { ...next, containers: fresh };
    } else if (what.containers && what.containers.length > 0) {
      const fresh = await gatherContainers(own, opts, next.components, new Set(what.containers));
      const replaced = new Set([...what.containers, ...fresh.items.map((c) => c.id)]);
      const items: ContainerFact[] = [...next.containers.items.filter((c) => !replaced.has(c.id)), ...fresh.items]
        .sort((a, b) => a.id.localeCompare(b.id));
      const before = new Map(next.containers.items.map((c) => [c.id, JSON.stringify(c)]));
      const after = new Map(fresh.items.map((c) => [c.id, JSON.stringify(c)]));
      changed.containers = [...replaced].filter((id) => before.get(id) !== after.get(id)).sort();
      if (changed.containers.length > 0) next = { ...next, containers: { ...next.containers, items } };
    }
    if (what.sockets || next.containers !== snapshot.containers) {
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
