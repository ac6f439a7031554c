// Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} (host and per-netns), mapped to processes via /proc/PID/fd.
export type SocketProtocol = 'tcp' | 'tcp6' | 'udp' | 'udp6';

export interface SocketFact {
  protocol: SocketProtocol;
  /** Dotted IPv4, or compressed IPv6 (v4-mapped IPv6 shown as IPv4). `0.0.0.0` / `::` mean every address. */
  address: string;
  port: number;
  inode: number;
  /** Owner uid as the kernel reports it in the socket table. */
  uid?: number;
  /** A process holding the socket open, when one was found within the scan bounds. */
  pid?: number;
  /** That process's comm (at most 15 characters, as the kernel keeps it). */
  process?: string;
  /** Container id when the socket lives in a container's own network namespace or its owner runs in a container. */
  containerId?: string;
}

/** How the socket scan went: what was skipped and why, so a partial picture is never mistaken for a whole one. */
export interface SocketScanStats {
  /** Lines of the /proc/net tables that could not be parsed. */
  malformedLines: number;
  /** Network namespaces read besides the host's (one per container netns). */
  namespacesRead: number;
  /** True when the inode→process walk stopped at its bound before every socket was attributed. */
  ownerScanTruncated: boolean;
}
