// Which process holds which socket: /proc/PID/fd/N links read `socket:[INODE]`. A node can have thousands of pids
// with thousands of fds each, and the daemon rescans every second, so what was learnt is kept per proc root: the
// owner of every socket already attributed (while its pid lives), and per pid the fd → socket links already read.
// Only sockets not seen before are looked for, first among fds not read before, and only if some are still not
// found (an fd number reused for a new socket) by reading every link again. Every pass is bounded.
import type { HostAccess } from '../host.js';

export interface OwnerBounds {
  /** Most fd links read in total. */
  maxLinks: number;
  /** Most fd links read per process (a proxy with 100k connections must not starve the rest). */
  maxFdsPerPid: number;
}

export const DEFAULT_OWNER_BOUNDS: OwnerBounds = { maxLinks: 200_000, maxFdsPerPid: 20_000 };

interface SocketOwner {
  pid: number;
  process?: string;
}

interface OwnerMemory {
  /** Socket inode → its owner, for every socket of the last scan that had one. */
  owners: Map<number, SocketOwner>;
  /** Every socket inode of the last scan (owned or not): what is new in this one. */
  seen: Set<number>;
  /** pid → fd name → socket inode (0: not a socket). */
  links: Map<number, Map<string, number>>;
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;
const memories = new Map<string, OwnerMemory>();
const MAX_MEMORIES = 16;

/** What the last scans of this proc root learnt. */
function memoryOf(procRoot: string): OwnerMemory {
  let m = memories.get(procRoot);
  if (!m) {
    if (memories.size >= MAX_MEMORIES) memories.delete(memories.keys().next().value!);
    m = { owners: new Map(), seen: new Set(), links: new Map() };
    memories.set(procRoot, m);
  }
  return m;
}

/** How much of /proc the last call read (for tests and the daemon's metrics). */
interface OwnerScanCost { fdDirsListed: number; linksRead: number; linksRemembered: number }

export function findSocketOwners(
  host: HostAccess,
  inodes: ReadonlySet<number>,
  bounds: OwnerBounds = DEFAULT_OWNER_BOUNDS,
): { owners: Map<number, SocketOwner>; truncated: boolean; cost: OwnerScanCost } {
  const memory = memoryOf(host.procRoot);
  const owners = new Map<number, SocketOwner>();
  const cost: OwnerScanCost = { fdDirsListed: 0, linksRead: 0, linksRemembered: 0 };
  const previouslySeen = memory.seen;
  memory.seen = new Set(inodes);
  if (inodes.size === 0) { memory.owners.clear(); return { owners, truncated: false, cost }; }

  const pids = host.listPids();
  const alive = new Set(pids);
  for (const pid of memory.links.keys()) if (!alive.has(pid)) memory.links.delete(pid);
  for (const [inode, owner] of memory.owners) {
    if (inodes.has(inode) && alive.has(owner.pid)) owners.set(inode, owner);
    else memory.owners.delete(inode);
  }
  // Sockets not seen in the last scan and not attributed yet; older unattributed ones (held in a pid namespace we
  // cannot see, or by nobody) were looked for when they were new.
  const wanted = new Set([...inodes].filter((i) => !owners.has(i) && !previouslySeen.has(i)));
  let truncated = false;
  if (wanted.size > 0) {
    truncated = lookFor(host, pids, wanted, owners, memory, bounds, cost, 'new-fds');
    // Links served from memory may be stale (an fd number reused for a new socket): read them all again.
    if (wanted.size > 0 && !truncated && cost.linksRemembered > 0) truncated = lookFor(host, pids, wanted, owners, memory, bounds, cost, 'all-fds');
  }
  // What a truncated pass did not reach is looked for again next time.
  if (truncated) for (const inode of wanted) memory.seen.delete(inode);
  for (const [inode, owner] of owners) memory.owners.set(inode, owner);
  return { owners, truncated, cost };
}

/** One pass over the pids' fd links (`new-fds`: only those not read before); removes what it finds from `wanted`. */
function lookFor(
  host: HostAccess, pids: number[], wanted: Set<number>, owners: Map<number, SocketOwner>, memory: OwnerMemory,
  bounds: OwnerBounds, cost: OwnerScanCost, which: 'new-fds' | 'all-fds',
): boolean {
  let linksRead = 0;
  for (const pid of pids) {
    if (linksRead >= bounds.maxLinks) return true;
    const fds = host.listProc([pid, 'fd']);
    cost.fdDirsListed++;
    const known = memory.links.get(pid);
    const links = new Map<string, number>();
    const claimed: SocketOwner[] = [];
    for (let i = 0; i < fds.length && i < bounds.maxFdsPerPid; i++) {
      const fd = fds[i];
      let inode = which === 'new-fds' ? known?.get(fd) : undefined;
      if (inode !== undefined) cost.linksRemembered++;
      else {
        if (++linksRead > bounds.maxLinks) break;
        cost.linksRead++;
        const m = SOCKET_LINK.exec(host.readProcLink([pid, 'fd', fd]) ?? '');
        inode = m ? Number(m[1]) : 0;
      }
      links.set(fd, inode);
      if (inode === 0 || !wanted.has(inode)) continue;
      const owner: SocketOwner = { pid };
      owners.set(inode, owner);
      wanted.delete(inode);
      claimed.push(owner);
    }
    memory.links.set(pid, links);
    if (claimed.length > 0) {
      const comm = host.readProcText([pid, 'comm'], 4096)?.trim() || undefined;
      for (const owner of claimed) owner.process = comm;
    }
    if (wanted.size === 0) return false;
  }
  return linksRead >= bounds.maxLinks;
}
