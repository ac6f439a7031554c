import type { HostAccess } from './host.js';
import type { ComponentFact, ComponentName, KubeletConfigFact, Snapshot } from '../snapshot.js';

export function gatherFiles(
  _host: HostAccess,
  _components: Partial<Record<ComponentName, ComponentFact>>,
  _kubelet: KubeletConfigFact | undefined,
): Snapshot['files'] {
  return {};
}
