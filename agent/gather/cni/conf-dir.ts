// Where the CNI configuration lives: the kubelet's --cni-conf-dir (dockershim era), else the runtime's
// own setting (containerd's CRI `conf_dir`, CRI-O's `network_dir`), else the distribution's or libcni's default.
import * as path from 'node:path';
import type { HostAccess } from '../host.js';
import { lastFlag } from '../flags.js';
import type { ComponentFact, ComponentName } from '../../facts/snapshot.js';
import type { CniConfDirSource } from '../../facts/cni.js';

const DEFAULT_CONF_DIR = '/etc/cni/net.d';
const CONFIG_MAX_BYTES = 1024 * 1024;

export function cniConfDir(
  host: HostAccess,
  components: Partial<Record<ComponentName, ComponentFact>>,
): { dir: string; source: CniConfDirSource } {
  const kubelet = components.kubelet;
  const fromKubelet = kubelet && lastFlag(kubelet.flags, 'cni-conf-dir');
  if (fromKubelet) return { dir: absolute(fromKubelet), source: 'kubelet' };

  const distribution = Object.values(components).find((c) => c?.distribution === 'k3s' || c?.distribution === 'rke2')?.distribution as 'k3s' | 'rke2' | undefined;
  const containerd = components.containerd;
  const containerdConfigs = [
    containerd && (lastFlag(containerd.flags, 'config') ?? lastFlag(containerd.flags, 'c')),
    distribution ? `/var/lib/rancher/${distribution}/agent/etc/containerd/config.toml` : undefined,
    '/etc/containerd/config.toml',
  ].filter((p): p is string => !!p);
  for (const file of containerdConfigs) {
    const dir = tomlValue(host, absolute(file), (table) => /cri/.test(table) && /\.cni$/.test(table), 'conf_dir');
    if (dir) return { dir: absolute(dir), source: 'containerd' };
  }

  if (components.crio) {
    const crioFiles = ['/etc/crio/crio.conf', ...dropIns(host, '/etc/crio/crio.conf.d')];
    let dir: string | undefined;
    for (const file of crioFiles) dir = tomlValue(host, file, (table) => table === 'crio.network', 'network_dir') ?? dir;
    if (dir) return { dir: absolute(dir), source: 'crio' };
  }
  if (distribution === 'k3s') return { dir: '/var/lib/rancher/k3s/agent/etc/cni/net.d', source: 'k3s' };
  return { dir: DEFAULT_CONF_DIR, source: 'default' };
}

function absolute(p: string): string {
  return path.posix.resolve('/', p);
}

function dropIns(host: HostAccess, dir: string): string[] {
  const listing = host.readDir(dir);
  if (!listing.ok) return [];
  return listing.entries.map((e) => e.name).filter((n) => n.endsWith('.conf')).sort().map((n) => path.posix.join(dir, n));
}

/**
 * A string value from a TOML file, looked up by table header and key. Only what these runtime configs
 * use (`[a."b.c".d]` headers, `key = "value"` / `'value'` lines): no TOML library is needed for that.
 */
function tomlValue(host: HostAccess, file: string, tableMatches: (table: string) => boolean, key: string): string | undefined {
  const r = host.readText(file, CONFIG_MAX_BYTES);
  if (!r.ok) return undefined;
  let table = '';
  let found: string | undefined;
  for (const raw of r.text.split('\n')) {
    const line = raw.trim();
    const header = /^\[([^\[\]]+)\]$/.exec(line);
    if (header) { table = header[1].replace(/["'\s]/g, ''); continue; }
    const kv = new RegExp(`^${key}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(line);
    if (kv && tableMatches(table)) found = kv[1] ?? kv[2];
  }
  return found || undefined;
}
