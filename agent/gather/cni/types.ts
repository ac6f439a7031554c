// The CNI configuration in use on the node.
import type { FileFact } from '../../snapshot.js';

export interface CniFact {
  confDir?: string;
  /** Plugin types named by the first (active) network config, e.g. ["calico", "portmap"]. */
  plugins: string[];
  /** Whether the CNI is known to enforce NetworkPolicy; undefined when unknown or no CNI config. */
  enforcesNetworkPolicy?: boolean;
  files: FileFact[];
}
