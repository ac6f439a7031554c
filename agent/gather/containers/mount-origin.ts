// Tells a hostPath volume apart from the bind mounts the runtime and the kubelet make for every pod.
// Matched on path shape, not on fixed roots, so custom root dirs (k3s, rke2, private test daemons) work too.
import type { MountOrigin } from '../../facts/containers.js';

const VIRTUAL_TYPES = new Set(['proc', 'sysfs', 'tmpfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'shm', 'ramfs']);

const RUNTIME_PATTERNS: readonly RegExp[] = [
  /\/io\.containerd\.grpc\.v1\.cri\/(sandboxes|containers)\/[0-9a-f]{16,}(\/|$)/,
  /\/io\.containerd\.runtime\.v2\.task\//,
  /\/containers\/storage\/overlay-containers\/[0-9a-f]{16,}\/userdata(\/|$)/,
  // The kubelet's /etc/hosts and termination-log files.
  /\/pods\/[0-9a-f-]{8,}\/(etc-hosts|containers\/)/,
];

const KUBELET_VOLUME = /\/pods\/[0-9a-f-]{8,}\/(volumes|volume-subpaths)\//;

function isBindMount(type: string | undefined, options: readonly string[]): boolean {
  return type === 'bind' || type === 'rbind' || options.includes('bind') || options.includes('rbind');
}

export function mountOrigin(source: string, type: string | undefined, options: readonly string[]): MountOrigin {
  if (!isBindMount(type, options)) {
    if (type && VIRTUAL_TYPES.has(type)) return 'virtual';
    if (!source.startsWith('/')) return 'virtual';
  }
  if (RUNTIME_PATTERNS.some((re) => re.test(source))) return 'runtime';
  if (KUBELET_VOLUME.test(source)) return 'volume';
  return 'hostPath';
}
