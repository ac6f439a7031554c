import type { HostAccess } from '../host.js';
import type { KernelFact } from './types.js';

export function gatherKernel(_host: HostAccess): KernelFact {
  return { sysctls: {} };
}
