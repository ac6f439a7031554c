import type { HostAccess } from './host.js';
import type { ComponentFact, KubeletConfigFact } from '../snapshot.js';

export function gatherKubeletConfig(_host: HostAccess, _kubelet: ComponentFact): KubeletConfigFact {
  return { configLoaded: false, dropIns: [], settings: {}, errors: [] };
}
