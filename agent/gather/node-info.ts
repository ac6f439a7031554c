// Node inventory. Kernel, CPU and memory come from systeminformation (the kernel is the host's, even inside the
// agent's container); hostname and OS come from the host root's files, since systeminformation would read the
// agent's own container image there.
import si from 'systeminformation';
import type { HostAccess } from './host.js';
import type { ComponentFact, ComponentName, KubeletConfigFact, Snapshot } from '../facts/snapshot.js';

interface Hardware { kernel?: string; architecture?: string; cpus?: number; memoryBytes?: number }

// Hardware does not change while the agent runs; systeminformation takes tens of ms, so ask once per process.
let hardware: Promise<Hardware> | undefined;

function readHardware(): Promise<Hardware> {
  hardware ??= Promise.all([si.osInfo(), si.cpu(), si.mem()])
    .then(([os, cpu, mem]) => ({ kernel: os.kernel, architecture: os.arch, cpus: cpu.cores, memoryBytes: mem.total }))
    .catch(() => ({}));
  return hardware;
}

export async function gatherNodeInfo(
  host: HostAccess,
  components: Partial<Record<ComponentName, ComponentFact>>,
  kubelet: KubeletConfigFact | undefined,
  nodeName?: string,
): Promise<Snapshot['node']> {
  const override = kubelet?.settings.hostnameOverride?.value;
  const hostname = host.readText('/etc/hostname', 4096);
  const name = nodeName
    ?? (typeof override === 'string' && override !== '' ? override : undefined)
    ?? (hostname.ok ? hostname.text.trim().split('\n')[0] : undefined)
    ?? 'unknown';
  return {
    name: name.toLowerCase() || 'unknown',
    roles: nodeRoles(components),
    os: readOsRelease(host),
    ...(await readHardware()),
  };
}

function nodeRoles(components: Partial<Record<ComponentName, ComponentFact>>): string[] {
  const roles: string[] = [];
  if (components['kube-apiserver'] || components['kube-controller-manager'] || components['kube-scheduler']) roles.push('control-plane');
  if (components.etcd) roles.push('etcd');
  if (components.kubelet && roles.length === 0) roles.push('worker');
  return roles;
}

function readOsRelease(host: HostAccess): string | undefined {
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    const r = host.readText(p, 64 * 1024);
    if (!r.ok) continue;
    const m = /^PRETTY_NAME=("?)(.*)\1$/m.exec(r.text);
    if (m) return m[2];
  }
  return undefined;
}
