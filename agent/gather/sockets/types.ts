// Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} (host and per-netns), mapped to processes via /proc/PID/fd.
export interface SocketFact {
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  address: string;
  port: number;
  inode: number;
  pid?: number;
  process?: string;
  /** Container id when the socket lives in a container's own network namespace. */
  containerId?: string;
}
