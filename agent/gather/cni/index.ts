// The CNI configuration the runtime loads: its conf dir, the active network config (libcni sorts file
// names and takes the first that loads), its plugin types, and whether they enforce NetworkPolicy.
import * as path from 'node:path';
import type { HostAccess } from '../host.js';
import type { ComponentFact, ComponentName, GatherError, KubeletConfigFact } from '../../facts/snapshot.js';
import { cniConfDir } from './conf-dir.js';
import { jsonErrorSummary } from '../yaml.js';
import { networkPolicySupport } from './policy.js';
import type { CniFact } from '../../facts/cni.js';

const CNI_NETWORKS_DIR = '/var/lib/cni/networks';
const CONF_EXTENSIONS = ['.conf', '.conflist', '.json'];
const CONF_MAX_BYTES = 1024 * 1024;
const MAX_FILES = 1000;

export function gatherCni(
  host: HostAccess,
  components: Partial<Record<ComponentName, ComponentFact>>,
  _kubelet: KubeletConfigFact | undefined,
): CniFact {
  const { dir, source } = cniConfDir(host, components);
  const fact: CniFact = { confDir: dir, confDirSource: source, plugins: [], files: [], errors: [] };
  fact.files = [...host.walk(dir, MAX_FILES), ...host.walk(CNI_NETWORKS_DIR, MAX_FILES)]
    .filter((f) => f.type === 'file' || f.error);

  const listing = host.readDir(dir);
  if (!listing.ok) {
    if (listing.error.code !== 'ENOENT') fact.errors.push(listing.error);
  } else {
    const names = listing.entries.map((e) => e.name).filter((n) => CONF_EXTENSIONS.includes(path.posix.extname(n))).sort();
    for (const name of names) {
      const file = path.posix.join(dir, name);
      const loaded = loadNetwork(host, file);
      if ('error' in loaded) { fact.errors.push(loaded.error); continue; }
      fact.activeConfig = file;
      fact.networkName = loaded.name;
      fact.plugins = loaded.plugins.map((p) => p.type);
      const kubeRouterBridge = loaded.plugins.some((p) => p.type === 'bridge' && p.bridge === 'kube-bridge');
      const distribution = Object.values(components).find((c) => c?.distribution)?.distribution;
      const verdict = networkPolicySupport(fact.plugins, {
        kubeRouterBridge, distribution, k3sPolicyDisabled: distribution === 'k3s' && k3sPolicyDisabled(host, components),
      });
      fact.enforcesNetworkPolicy = verdict.enforces;
      fact.policyReason = verdict.reason;
      break;
    }
  }
  return fact;
}

interface PluginConf { type: string; bridge?: string }

function loadNetwork(host: HostAccess, file: string): { name?: string; plugins: PluginConf[] } | { error: GatherError } {
  const r = host.readText(file, CONF_MAX_BYTES);
  if (!r.ok) return { error: r.error };
  let doc: unknown;
  try { doc = JSON.parse(r.text); } catch (err) {
    return { error: { path: file, code: 'EINVAL', message: `invalid CNI config: ${jsonErrorSummary(err)}` } };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { error: { path: file, code: 'EINVAL', message: 'CNI config is not a JSON object' } };
  }
  const o = doc as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name : undefined;
  const list = Array.isArray(o.plugins) ? o.plugins : typeof o.type === 'string' ? [o] : undefined;
  const plugins = (list ?? [])
    .filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null && typeof (p as Record<string, unknown>).type === 'string')
    .map((p) => ({ type: String(p.type), ...(typeof p.bridge === 'string' ? { bridge: p.bridge } : {}) }));
  if (plugins.length === 0) return { error: { path: file, code: 'EINVAL', message: 'CNI config names no plugin type' } };
  return { name, plugins };
}

/** k3s's embedded policy controller is on unless `--disable-network-policy` (flag or config file). */
function k3sPolicyDisabled(host: HostAccess, components: Partial<Record<ComponentName, ComponentFact>>): boolean {
  const onCommandLine = Object.values(components).some((c) => c?.distribution === 'k3s'
    && c.argv.some((a) => /^--disable-network-policy(=(true|1))?$/.test(a)));
  if (onCommandLine) return true;
  const config = host.readText('/etc/rancher/k3s/config.yaml', CONF_MAX_BYTES);
  return config.ok && /^["']?disable-network-policy["']?\s*:\s*["']?true/m.test(config.text);
}
