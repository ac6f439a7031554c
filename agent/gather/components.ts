import type { HostAccess } from './host.js';
import type { ComponentFact, ComponentName, GatherError } from '../snapshot.js';

type Components = Partial<Record<ComponentName, ComponentFact>>;

export function discoverComponents(_host: HostAccess): {
  components: Components;
  errors: GatherError[];
  fromManifests(staticPodPath?: string): { components: Components; errors: GatherError[] };
} {
  return { components: {}, errors: [], fromManifests: () => ({ components: {}, errors: [] }) };
}
