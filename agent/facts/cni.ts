// The CNI configuration in use on the node.
import type { FileFact, GatherError } from './file.js';

export type CniConfDirSource = 'kubelet' | 'containerd' | 'crio' | 'k3s' | 'rke2' | 'default';

export interface CniFact {
  confDir?: string;
  /** Which setting named the conf dir (`default` is /etc/cni/net.d). */
  confDirSource?: CniConfDirSource;
  /** The config file the runtime uses: the lexically first *.conf / *.conflist / *.json that loads. */
  activeConfig?: string;
  networkName?: string;
  /** Plugin types named by the active config, in order, e.g. ["calico", "portmap"]. */
  plugins: string[];
  /** Whether the CNI is known to enforce NetworkPolicy; undefined when unknown or no CNI config. */
  enforcesNetworkPolicy?: boolean;
  /** Why: the enforcing plugin, Flannel alone, k3s's embedded policy controller, or the unknown plugin types. */
  policyReason?: string;
  /** Regular files of the conf dir and under /var/lib/cni/networks (CIS 1.1.9 / 1.1.10). */
  files: FileFact[];
  errors: GatherError[];
}
