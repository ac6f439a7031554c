// Control-plane components defined by static pod manifests (kubeadm, rke2), read the way the kubelet reads them.
import * as path from 'node:path';
import type { HostAccess } from './host.js';
import { parseComponentArgs } from './flags.js';
import { redactUrl } from '../../common/address.js';
import { isRecord, stringsOf } from '../../common/json.js';
import { parseConfigBytes } from './yaml.js';
import { ETCD_ENV_KEPT } from './component-settings.js';
import type { DiscoveredComponent, ComponentName, GatherError } from '../facts/snapshot.js';

const DEFAULT_DIRS = ['/etc/kubernetes/manifests', '/var/lib/rancher/rke2/agent/pod-manifests', '/var/lib/rancher/k3s/agent/pod-manifests'];
const MANIFEST_MAX_BYTES = 1024 * 1024;
const STATIC_POD_COMPONENTS: Record<string, ComponentName> = {
  'kube-apiserver': 'kube-apiserver',
  'kube-controller-manager': 'kube-controller-manager',
  'kube-scheduler': 'kube-scheduler',
  etcd: 'etcd',
  'kube-proxy': 'kube-proxy',
};

interface StaticPodComponent extends DiscoveredComponent {
  manifestPath: string;
}

/** The kubelet's staticPodPath when it has one; otherwise the distributions' default manifest dirs. */
export function readStaticPods(host: HostAccess, staticPodPath: string | undefined): { components: StaticPodComponent[]; errors: GatherError[] } {
  const dirs = staticPodPath ? [staticPodPath] : DEFAULT_DIRS;
  const components: StaticPodComponent[] = [];
  const errors: GatherError[] = [];
  const seen = new Set<ComponentName>();
  for (const dir of dirs) {
    const listing = host.readDir(dir);
    if (!listing.ok) {
      if (listing.error.code !== 'ENOENT' && listing.error.code !== 'ENOTDIR') errors.push(listing.error);
      continue;
    }
    const names = listing.entries.map((e) => e.name).filter((n) => /\.(ya?ml|json)$/.test(n) && !n.startsWith('.')).sort();
    for (const name of names) {
      const manifestPath = path.posix.join(dir, name);
      const r = host.readDerived(manifestPath, MANIFEST_MAX_BYTES, parseConfigBytes);
      if (!r.ok) { errors.push(r.error); continue; }
      const parsed = r.value;
      if (!parsed.ok) { errors.push({ path: manifestPath, code: 'EINVAL', message: `invalid YAML: ${parsed.message}` }); continue; }
      for (const c of componentsOfPod(parsed.value, manifestPath)) {
        if (seen.has(c.name)) continue;
        seen.add(c.name);
        components.push(c);
      }
    }
  }
  return { components, errors };
}

function componentsOfPod(pod: Record<string, unknown>, manifestPath: string): StaticPodComponent[] {
  const spec = pod.spec;
  if (!isRecord(spec) || !Array.isArray(spec.containers)) return [];
  const out: StaticPodComponent[] = [];
  for (const container of spec.containers) {
    if (!isRecord(container)) continue;
    const command = stringsOf(container.command);
    const args = stringsOf(container.args);
    const argv = [...command, ...args].map(redactUrl);
    const name = STATIC_POD_COMPONENTS[path.posix.basename(argv[0] ?? '')];
    if (!name) continue;
    const { flags, problems } = parseComponentArgs(name, argv.slice(1));
    out.push({
      name,
      source: 'manifest',
      path: manifestPath,
      manifestPath,
      argv,
      flags,
      ...(problems.length > 0 ? { argvProblems: problems } : {}),
      env: name === 'etcd' ? literalEnv(container.env) : {},
      version: imageTag(container.image),
    });
  }
  return out;
}

/** Literal ETCD_* values only (valueFrom references cannot be resolved on the node). */
function literalEnv(v: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  if (!Array.isArray(v)) return env;
  for (const e of v) {
    if (isRecord(e) && typeof e.name === 'string' && ETCD_ENV_KEPT.has(e.name) && typeof e.value === 'string') env[e.name] = redactUrl(e.value);
  }
  return env;
}

function imageTag(image: unknown): string | undefined {
  if (typeof image !== 'string') return undefined;
  const m = /:([^:/@]+)(@sha256:[0-9a-f]+)?$/.exec(image);
  return m?.[1];
}
