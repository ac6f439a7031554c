import type { HostAccess } from '../host.js';
import type { GatherOptions } from '../options.js';
import type { ComponentFact, ComponentName } from '../../snapshot.js';
import type { ContainersFact } from './types.js';

export async function gatherContainers(
  _host: HostAccess,
  _opts: GatherOptions,
  _components: Partial<Record<ComponentName, ComponentFact>>,
): Promise<ContainersFact> {
  return { sources: [], items: [], errors: [] };
}
