// What to watch: every file and dir the checks read (taken from the snapshot, so a kubelet with its
// config in an odd place is still covered), the well-known locations, and the runtime state dirs; and
// which of those are sensitive (a change is a finding of its own).
import { posix } from 'node:path';
import type { Snapshot } from '../facts/snapshot.js';

export interface WatchTarget {
  /** Host path. */
  path: string;
  /** Dirs: how deep below it to watch (0: its entries only). Undefined for a single file. */
  depth?: number;
}

export type SensitiveKind = 'static-pod-manifest' | 'kubelet-config' | 'kubeconfig' | 'pki' | 'unit-file';

const UNIT_DIRS = ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const UNITS = ['kubelet', 'containerd', 'crio', 'docker', 'k3s', 'k3s-agent', 'rke2-server', 'rke2-agent'];

export const WELL_KNOWN_DIRS: WatchTarget[] = [
  { path: '/etc/kubernetes', depth: 3 },
  { path: '/var/lib/kubelet/pki', depth: 0 },
  { path: '/etc/cni/net.d', depth: 0 },
  { path: '/etc/containerd', depth: 0 },
  { path: '/etc/crio', depth: 1 },
  { path: '/var/lib/etcd', depth: 0 },
  { path: '/etc/rancher', depth: 2 },
  { path: '/var/lib/rancher/k3s/server/tls', depth: 1 },
  { path: '/var/lib/rancher/rke2/server/tls', depth: 1 },
  { path: '/var/lib/rancher/k3s/agent/pod-manifests', depth: 0 },
  { path: '/var/lib/rancher/rke2/agent/pod-manifests', depth: 0 },
  ...UNIT_DIRS.flatMap((d) => UNITS.map((u) => ({ path: `${d}/${u}.service.d`, depth: 0 }))),
];

export const WELL_KNOWN_FILES = [
  '/var/lib/kubelet/config.yaml',
  '/var/lib/kubelet/kubeconfig',
  '/etc/default/kubelet',
  '/etc/sysconfig/kubelet',
  ...UNIT_DIRS.flatMap((d) => UNITS.map((u) => `${d}/${u}.service`)),
];

/** Runtime state dirs whose entries appear and vanish with containers. */
export function runtimeStateTargets(opts: { containerdStateDir?: string; crioStateDir?: string }): WatchTarget[] {
  const containerd = opts.containerdStateDir ?? '/run/containerd';
  return [
    { path: `${containerd}/io.containerd.runtime.v2.task/k8s.io`, depth: 0 },
    { path: opts.crioStateDir ?? '/run/crio', depth: 0 },
    { path: '/run/containers/storage/overlay-containers', depth: 0 },
  ];
}

/** Host paths named by the snapshot: component config files, kubelet config and drop-ins, PKI, manifests. */
export function snapshotPaths(s: Snapshot | undefined): { files: string[]; dirs: WatchTarget[] } {
  if (!s) return { files: [], dirs: [] };
  const files = new Set<string>();
  const dirs: WatchTarget[] = [];
  for (const facts of Object.values(s.files)) {
    for (const f of facts ?? []) {
      if (f.type === 'dir') dirs.push({ path: f.path, depth: 0 });
      else files.add(f.path);
    }
  }
  const k = s.kubelet;
  if (k?.configPath) files.add(k.configPath);
  for (const d of k?.dropIns ?? []) files.add(d);
  if (k?.configDir) dirs.push({ path: k.configDir, depth: 0 });
  if (k?.staticPodPath) dirs.push({ path: k.staticPodPath, depth: 0 });
  for (const c of Object.values(s.components)) if (c?.source === 'manifest' && c.path) files.add(c.path);
  if (s.encryptionConfig?.path) files.add(s.encryptionConfig.path);
  if (s.kubeProxyConfig?.path) files.add(s.kubeProxyConfig.path);
  for (const c of s.certificates) files.add(c.path);
  for (const key of s.keys) files.add(key.path);
  return { files: [...files], dirs };
}

export function watchTargets(s: Snapshot | undefined, opts: { containerdStateDir?: string; crioStateDir?: string }): WatchTarget[] {
  const fromSnapshot = snapshotPaths(s);
  const byPath = new Map<string, WatchTarget>();
  for (const t of [...WELL_KNOWN_DIRS, ...fromSnapshot.dirs, ...runtimeStateTargets(opts)]) {
    const prev = byPath.get(t.path);
    if (!prev || (prev.depth ?? -1) < (t.depth ?? -1)) byPath.set(t.path, t);
  }
  for (const f of [...WELL_KNOWN_FILES, ...fromSnapshot.files]) {
    const normal = posix.normalize(f);
    if (!byPath.has(normal) && !coveredByDir(normal, byPath)) byPath.set(normal, { path: normal });
  }
  return [...byPath.values()];
}

function coveredByDir(file: string, targets: Map<string, WatchTarget>): boolean {
  for (const t of targets.values()) {
    if (t.depth === undefined) continue;
    const rel = posix.relative(t.path, file);
    if (!rel.startsWith('..') && !posix.isAbsolute(rel) && rel.split('/').length <= t.depth + 1) return true;
  }
  return false;
}

const isUnder = (p: string, dir: string): boolean => p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Whether a host path is sensitive, and as what. */
export function sensitiveKind(p: string, s: Snapshot | undefined): SensitiveKind | undefined {
  const manifestDirs = ['/etc/kubernetes/manifests', '/var/lib/rancher/k3s/agent/pod-manifests',
    '/var/lib/rancher/rke2/agent/pod-manifests'];
  if (s?.kubelet?.staticPodPath) manifestDirs.push(s.kubelet.staticPodPath);
  if (manifestDirs.some((d) => posix.dirname(p) === posix.normalize(d))) return 'static-pod-manifest';
  const k = s?.kubelet;
  if (p === k?.configPath || k?.dropIns.includes(p) || (k?.configDir && isUnder(p, k.configDir))
    || p === '/var/lib/kubelet/config.yaml') return 'kubelet-config';
  if (/\.service$|\.service\.d\/[^/]+\.conf$/.test(p) && UNIT_DIRS.some((d) => isUnder(p, d))) return 'unit-file';
  if (isUnder(p, '/etc/kubernetes/pki') || isUnder(p, '/var/lib/kubelet/pki') || /\/server\/tls\//.test(p)
    || s?.certificates.some((c) => c.path === p) || s?.keys.some((key) => key.path === p)) return 'pki';
  const kubeconfigs = new Set(Object.entries(s?.files ?? {})
    .filter(([role]) => role.endsWith('.kubeconfig')).flatMap(([, facts]) => (facts ?? []).map((f) => f.path)));
  if (kubeconfigs.has(p) || p === '/var/lib/kubelet/kubeconfig' || /^\/etc\/kubernetes\/[^/]+\.conf$/.test(p)
    || /^\/etc\/rancher\/(k3s|rke2)\/[^/]+\.yaml$/.test(p)) return 'kubeconfig';
  return undefined;
}
