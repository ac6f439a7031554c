// The facts a check reads, as it declares them, and where each comes from on the host. Watch targets and the
// checks to re-run after a file changes are both derived from these declarations (agent/watch/), so a check that
// reads something it does not declare is a bug: test/unit/checks/declared-inputs.test.ts looks for that.
import { posix } from 'node:path';
import type { ComponentName, FileFact, FileRole, Snapshot } from './snapshot.js';

/** Whole facts of the snapshot that have no finer-grained input. */
export type FactKind =
  | 'certificates' | 'keys' | 'sockets' | 'containers' | 'kernel' | 'cni' | 'encryptionConfig' | 'kubeProxyConfig'
  | 'gatherErrors'
  /** What component discovery did not take for a component, or could not pin to one process. */
  | 'discovery'
  /** The kubelet's static pod manifest dir (staticPodPath / --pod-manifest-path). */
  | 'staticPodDirs';

export type Input =
  /** The effective value of one setting of one component (for the kubelet: `Snapshot.kubelet.settings`). */
  | { kind: 'setting'; component: ComponentName; key: string }
  /** The file facts of a role in `Snapshot.files`, or the CNI config and state files (`Snapshot.cni.files`). */
  | { kind: 'files'; role: FileRole | 'cni' }
  | { kind: 'fact'; fact: FactKind }
  /** A host path known in advance, where things appear before a snapshot names them: a dir (to `depth`) or a file. */
  | { kind: 'path'; path: string; depth?: number };

export const setting = (component: ComponentName, key: string): Input => ({ kind: 'setting', component, key });
export const settings = (component: ComponentName, ...keys: string[]): Input[] => keys.map((key) => setting(component, key));
export const files = (role: FileRole | 'cni'): Input => ({ kind: 'files', role });
export const fact = (kind: FactKind): Input => ({ kind: 'fact', fact: kind });
export const hostPath = (path: string, depth?: number): Input => (depth === undefined ? { kind: 'path', path } : { kind: 'path', path, depth });

/** A host path to watch: a dir to `depth` levels below it (0: its entries), or a single file when depth is undefined. */
export interface HostTarget {
  path: string;
  depth?: number;
}

/** What the snapshot does not hold but where some facts come from: the runtimes' state dirs. */
export interface SourceOptions {
  containerdStateDir?: string;
  crioStateDir?: string;
}

/** Files the kubelet's command line is written in (it is read from /proc, but changes there first). */
const KUBELET_FLAG_FILES = ['/etc/default/kubelet', '/etc/sysconfig/kubelet', '/var/lib/kubelet/kubeadm-flags.env'];
/** Where the CNI conf dir is configured when not by the kubelet: containerd's and CRI-O's configs. */
const RUNTIME_CONFIG_DIRS: HostTarget[] = [{ path: '/etc/containerd', depth: 0 }, { path: '/etc/crio', depth: 1 }];

const fileTarget = (f: FileFact): HostTarget => (f.type === 'dir' ? { path: f.path, depth: 0 } : { path: f.path });
const present = (paths: (string | undefined)[]): HostTarget[] =>
  paths.filter((p): p is string => typeof p === 'string' && p !== '').map((path) => ({ path }));

/** Runtime state dirs whose entries appear and vanish with containers. */
function runtimeStateTargets(opts: SourceOptions): HostTarget[] {
  const containerd = opts.containerdStateDir ?? '/run/containerd';
  return [
    { path: `${containerd}/io.containerd.runtime.v2.task/k8s.io`, depth: 0 },
    { path: opts.crioStateDir ?? '/run/crio', depth: 0 },
    { path: '/run/containers/storage/overlay-containers', depth: 0 },
  ];
}

/**
 * The host paths an input comes from on this node. Without a snapshot (or a fact it lacks) only what is known in
 * advance: fixed paths and defaults.
 */
export function inputTargets(input: Input, s: Snapshot | undefined, opts: SourceOptions = {}): HostTarget[] {
  switch (input.kind) {
    case 'path':
      return [input.depth === undefined ? { path: input.path } : { path: input.path, depth: input.depth }];
    case 'files':
      return (input.role === 'cni' ? s?.cni.files ?? [] : s?.files[input.role] ?? []).map(fileTarget);
    case 'setting':
      return settingSources(input.component, s);
    case 'fact':
      return factSources(input.fact, s, opts);
  }
}

/** Where a component's settings are written: the kubelet's config files, a static pod manifest, kube-proxy's --config. */
function settingSources(component: ComponentName, s: Snapshot | undefined): HostTarget[] {
  if (component === 'kubelet') {
    const k = s?.kubelet;
    return [
      ...present([k?.configPath, ...(k?.dropIns ?? []), ...KUBELET_FLAG_FILES]),
      ...(k?.configDir ? [{ path: k.configDir, depth: 0 }] : []),
    ];
  }
  const c = s?.components[component];
  const distributionConfig = c?.distribution === 'k3s' || c?.distribution === 'rke2' ? `/etc/rancher/${c.distribution}/config.yaml` : undefined;
  return present([c?.manifestPath, distributionConfig, component === 'kube-proxy' ? s?.kubeProxyConfig?.path : undefined]);
}

function factSources(kind: FactKind, s: Snapshot | undefined, opts: SourceOptions): HostTarget[] {
  switch (kind) {
    case 'certificates': return present((s?.certificates ?? []).map((c) => c.path));
    case 'keys': return present((s?.keys ?? []).map((k) => k.path));
    case 'encryptionConfig': return present([s?.encryptionConfig?.path]);
    case 'kubeProxyConfig': return present([s?.kubeProxyConfig?.path]);
    case 'cni': return [
      { path: s?.cni.confDir ?? '/etc/cni/net.d', depth: 0 },
      ...present([s?.cni.activeConfig]),
      ...(s?.cni.files ?? []).map(fileTarget),
      ...RUNTIME_CONFIG_DIRS,
    ];
    case 'containers': return runtimeStateTargets(opts);
    case 'staticPodDirs': return s?.kubelet?.staticPodPath ? [{ path: s.kubelet.staticPodPath, depth: 0 }] : [];
    // Read from /proc and /sys, which inotify does not report: the periodic rescan covers them.
    case 'sockets': case 'kernel': case 'gatherErrors': case 'discovery': return [];
  }
}

/** Whether a changed host path is one a target covers: the file itself, or an entry of a dir within its depth. */
export function covers(target: HostTarget, changed: string): boolean {
  if (changed === target.path) return true;
  if (target.depth === undefined) return false;
  const rel = posix.relative(target.path, changed);
  return rel !== '' && !rel.startsWith('..') && !posix.isAbsolute(rel) && rel.split('/').length <= target.depth + 1;
}
