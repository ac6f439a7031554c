// Listening sockets of the host's network namespace and of every container with its own, each with
// the process that holds it (and its container) when that can be found within the scan bounds.
import type { HostAccess } from '../host.js';
import type { ContainerFact, ContainersFact } from '../../facts/containers.js';
import { log } from '../../log.js';
import { parseProcNet, type RawSocket } from './proc-net.js';
import { DEFAULT_OWNER_BOUNDS, findSocketOwners, type OwnerBounds } from './owners.js';
import type { SocketFact, SocketProtocol, SocketScanStats } from '../../facts/sockets.js';

const TABLES: SocketProtocol[] = ['tcp', 'tcp6', 'udp', 'udp6'];
const TABLE_MAX_BYTES = 16 * 1024 * 1024;
const CONTAINER_ID = /[0-9a-f]{64}/g;

export function gatherSockets(host: HostAccess, containers: ContainersFact): SocketFact[] {
  const { sockets, stats } = scanSockets(host, containers);
  if (stats.malformedLines > 0 || stats.ownerScanTruncated) {
    log.warn({ malformedLines: stats.malformedLines, ownerScanTruncated: stats.ownerScanTruncated }, 'socket scan incomplete');
  }
  return sockets;
}

export function scanSockets(
  host: HostAccess,
  containers: ContainersFact,
  bounds: OwnerBounds = DEFAULT_OWNER_BOUNDS,
): { sockets: SocketFact[]; stats: SocketScanStats } {
  const stats: SocketScanStats = { malformedLines: 0, namespacesRead: 0, ownerScanTruncated: false };
  const seen = new Set<number>();
  const found: { raw: RawSocket; netnsContainer?: ContainerFact }[] = [];
  /** Reads one namespace's tables; false when none could be read (the pid is gone, or its net dir is hidden). */
  const readTables = (prefix: (string | number)[], netnsContainer?: ContainerFact): boolean => {
    let any = false;
    for (const protocol of TABLES) {
      const text = host.readProcText([...prefix, 'net', protocol], TABLE_MAX_BYTES);
      // No net dir at all (the pid is gone, or hidden): no table will be there either.
      if (text === undefined && protocol === 'tcp' && host.listProc([...prefix, 'net']).length === 0) return false;
      if (text === undefined) continue; // no IPv6 in this kernel
      any = true;
      const parsed = parseProcNet(text, protocol);
      stats.malformedLines += parsed.malformed;
      for (const raw of parsed.sockets) {
        // Socket inodes are unique node-wide: an inode seen before is the same socket through a shared netns.
        if (seen.has(raw.inode)) continue;
        seen.add(raw.inode);
        found.push({ raw, netnsContainer });
      }
    }
    return any;
  };

  // The host's network namespace is pid 1's when we can see it (hostPID without hostNetwork: /proc/net would be
  // the agent pod's own netns); otherwise our own (a fixture proc root, or the agent running on the host).
  let hostPrefix: (string | number)[] = host.readProcLink([1, 'ns', 'net']) !== undefined ? [1] : [];
  if (!readTables(hostPrefix) && hostPrefix.length > 0) {
    hostPrefix = [];
    readTables(hostPrefix);
  }
  const hostNetns = host.readProcLink([hostPrefix[0] ?? 'self', 'ns', 'net']);
  const readNetns = new Set<string>(hostNetns ? [hostNetns] : []);
  for (const c of ownNetnsContainers(containers.items)) {
    const netns = host.readProcLink([c.pid!, 'ns', 'net']);
    if (netns !== undefined) {
      if (readNetns.has(netns)) continue;
      readNetns.add(netns);
    }
    stats.namespacesRead++;
    readTables([c.pid!], c);
  }

  const { owners, truncated } = findSocketOwners(host, seen, bounds);
  stats.ownerScanTruncated = truncated;
  const byId = new Map(containers.items.map((c) => [c.id, c]));
  const byPid = new Map(containers.items.filter((c) => c.pid !== undefined).map((c) => [c.pid!, c]));
  const cgroupCache = new Map<number, ContainerFact | undefined>();
  const containerOfPid = (pid: number): ContainerFact | undefined => {
    if (byPid.has(pid)) return byPid.get(pid);
    if (byId.size === 0) return undefined;
    if (!cgroupCache.has(pid)) {
      const cgroup = host.readProcText([pid, 'cgroup'], 64 * 1024) ?? '';
      cgroupCache.set(pid, cgroup.match(CONTAINER_ID)?.map((id) => byId.get(id)).find(Boolean));
    }
    return cgroupCache.get(pid);
  };

  const sockets = found.map(({ raw, netnsContainer }): SocketFact => {
    const owner = owners.get(raw.inode);
    const fact: SocketFact = { ...raw };
    if (owner) {
      fact.pid = owner.pid;
      if (owner.process) fact.process = owner.process;
    }
    const container = (owner ? containerOfPid(owner.pid) : undefined) ?? netnsContainer;
    if (container) fact.containerId = container.id;
    return fact;
  });
  sockets.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol) || a.address.localeCompare(b.address));
  return { sockets, stats };
}

/**
 * Containers whose first process is alive and not known to share the host's network namespace,
 * workload containers first so that a pod's sockets are attributed to a workload rather than its sandbox.
 */
function ownNetnsContainers(items: ContainerFact[]): ContainerFact[] {
  return items
    .filter((c) => c.pid !== undefined && c.pid > 0)
    .filter((c) => !c.declared?.hostNamespaces.includes('network') && !c.kernel?.sharedWithHost.includes('net'))
    .sort((a, b) => (a.type === b.type ? 0 : a.type === 'container' ? -1 : 1));
}
