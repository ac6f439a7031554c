export interface GatherOptions {
  hostRoot: string;
  procRoot: string;
  /** Overrides the node name read from the host (kubelet --hostname-override, /etc/hostname). */
  nodeName?: string;
  containerdStateDir?: string;
  crioStateDir?: string;
  criSocket?: string;
}
