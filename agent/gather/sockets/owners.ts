// Which process holds which socket: /proc/PID/fd/N links read `socket:[INODE]`. A node can have
// thousands of pids with thousands of fds each, so the walk stops as soon as every wanted inode is
// attributed, and never reads more than a fixed number of links.
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

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

export function findSocketOwners(
  host: HostAccess,
  inodes: ReadonlySet<number>,
  bounds: OwnerBounds = DEFAULT_OWNER_BOUNDS,
): { owners: Map<number, SocketOwner>; truncated: boolean } {
  const owners = new Map<number, SocketOwner>();
  if (inodes.size === 0) return { owners, truncated: false };
  let linksRead = 0;
  for (const pid of host.listPids()) {
    if (linksRead >= bounds.maxLinks) break;
    const fds = host.listProc([pid, 'fd']);
    const claimed: SocketOwner[] = [];
    for (let i = 0; i < fds.length && i < bounds.maxFdsPerPid; i++) {
      if (++linksRead > bounds.maxLinks) break;
      const m = SOCKET_LINK.exec(host.readProcLink([pid, 'fd', fds[i]]) ?? '');
      if (!m) continue;
      const inode = Number(m[1]);
      if (!inodes.has(inode) || owners.has(inode)) continue;
      const owner: SocketOwner = { pid };
      owners.set(inode, owner);
      claimed.push(owner);
    }
    if (claimed.length > 0) {
      const comm = host.readProcText([pid, 'comm'], 4096)?.trim() || undefined;
      for (const owner of claimed) owner.process = comm;
    }
    if (owners.size === inodes.size) return { owners, truncated: false };
  }
  return { owners, truncated: owners.size < inodes.size && linksRead >= bounds.maxLinks };
}
