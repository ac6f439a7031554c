import type { HostAccess } from './host.js';
import type { ComponentFact, EncryptionConfigFact } from '../snapshot.js';

export function gatherEncryptionConfig(_host: HostAccess, _apiserver: ComponentFact | undefined): EncryptionConfigFact | undefined {
  return undefined;
}
