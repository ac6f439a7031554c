import type { HostAccess } from '../host.js';
import type { ContainersFact } from '../containers/types.js';
import type { SocketFact } from './types.js';

export function gatherSockets(_host: HostAccess, _containers: ContainersFact): SocketFact[] {
  return [];
}
