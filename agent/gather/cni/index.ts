import type { HostAccess } from '../host.js';
import type { ComponentFact, ComponentName, KubeletConfigFact } from '../../snapshot.js';
import type { CniFact } from './types.js';

export function gatherCni(
  _host: HostAccess,
  _components: Partial<Record<ComponentName, ComponentFact>>,
  _kubelet: KubeletConfigFact | undefined,
): CniFact {
  return { plugins: [], files: [] };
}
