import type { HostAccess } from './host.js';
import type { ComponentFact, ComponentName, KubeletConfigFact, Snapshot } from '../snapshot.js';

export async function gatherNodeInfo(
  _host: HostAccess,
  _components: Partial<Record<ComponentName, ComponentFact>>,
  _kubelet: KubeletConfigFact | undefined,
  nodeName?: string,
): Promise<Snapshot['node']> {
  return { name: nodeName ?? 'unknown', roles: [] };
}
