import type { HostAccess } from './host.js';
import type { ComponentFact, KubeProxyConfigFact } from '../snapshot.js';

export function gatherKubeProxyConfig(_host: HostAccess, _proxy: ComponentFact | undefined): KubeProxyConfigFact | undefined {
  return undefined;
}
