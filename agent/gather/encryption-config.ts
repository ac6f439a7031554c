// The apiserver's encryption-at-rest config: which providers encrypt which resources, in order.
// Only provider names are kept: the file also holds the encryption keys themselves, which never leave gather.
import type { HostAccess } from './host.js';
import { lastFlag } from './flags.js';
import { isRecord } from '../../common/json.js';
import { parseConfig } from './yaml.js';
import type { ComponentFact, EncryptionConfigFact } from '../facts/snapshot.js';

export function gatherEncryptionConfig(host: HostAccess, apiserver: ComponentFact | undefined): EncryptionConfigFact | undefined {
  const p = apiserver && lastFlag(apiserver.flags, 'encryption-provider-config');
  if (!p) return undefined;
  // As the apiserver reads it: through its own root (for a static pod, the container's view of the hostPath).
  const r = host.processView(apiserver.pid).readText(p, 1024 * 1024);
  if (!r.ok) return { path: p, resources: [], error: r.error };
  const parsed = parseConfig(r.text);
  if (!parsed.ok) return { path: p, resources: [], error: { path: p, code: 'EINVAL', message: `invalid encryption config: ${parsed.message}` } };
  const resources: EncryptionConfigFact['resources'] = [];
  const entries = Array.isArray(parsed.value.resources) ? parsed.value.resources : [];
  for (const entry of entries) {
    if (!isRecord(entry)) continue;
    const names = Array.isArray(entry.resources) ? entry.resources.filter((s): s is string => typeof s === 'string') : [];
    const providers = Array.isArray(entry.providers)
      ? entry.providers.filter(isRecord).map((prov) => Object.keys(prov)[0]).filter((k): k is string => typeof k === 'string')
      : [];
    resources.push({ resources: names, providers });
  }
  return { path: p, resources };
}
