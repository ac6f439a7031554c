import type { HostAccess } from '../host.js';
import type { ComponentFact, ComponentName, KubeletConfigFact } from '../../snapshot.js';
import type { CertificateFact, KeyFact } from './types.js';

export function gatherPki(
  _host: HostAccess,
  _components: Partial<Record<ComponentName, ComponentFact>>,
  _kubelet: KubeletConfigFact | undefined,
): { certificates: CertificateFact[]; keys: KeyFact[] } {
  return { certificates: [], keys: [] };
}
