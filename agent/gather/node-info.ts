// Node inventory. Kernel, architecture, CPUs and memory come from the kernel through node:os (uname, sysinfo: the
// host's, even inside the agent's container, since a container shares the host's kernel); hostname and OS come from
// the host root's files, which in a container differ from the agent's own image.
import * as os from 'node:os';
import type { HostAccess } from './host.js';
import type { ComponentFact, ComponentName, KubeletConfigFact, Snapshot } from '../facts/snapshot.js';

interface Hardware { kernel?: string; architecture?: string; cpus?: number; memoryBytes?: number }

// Hardware does not change while the agent runs: asked once per process.
let hardware: Hardware | undefined;

function readHardware(): Hardware {
  hardware ??= { kernel: os.release(), architecture: os.arch(), cpus: os.cpus().length, memoryBytes: os.totalmem() };
  return hardware;
}

export async function gatherNodeInfo(
  host: HostAccess,
  components: Partial<Record<ComponentName, ComponentFact>>,
  kubelet: KubeletConfigFact | undefined,
  nodeName?: string,
): Promise<Snapshot['node']> {
  return {
    name: nodeName || kubeletNodeName(host, kubelet) || 'unknown',
    roles: nodeRoles(components),
    os: readOsRelease(host),
    ...readHardware(),
  };
}

/**
 * The name the kubelet registers its node under, so the name the API server, the node's ServiceAccount tokens and the
 * collector know it by: --hostname-override, else the hostname, trimmed and lowercased (the kubelet's GetHostname).
 * An explicit --node-name is taken as given (the command line refuses one that is not a node name).
 */
function kubeletNodeName(host: HostAccess, kubelet: KubeletConfigFact | undefined): string | undefined {
  const override = kubelet?.settings.hostnameOverride?.value;
  let name = typeof override === 'string' ? override.trim() : '';
  if (name === '') {
    const hostname = host.readText('/etc/hostname', 4096);
    name = hostname.ok ? hostname.text.trim().split('\n')[0].trim() : '';
  }
  return name === '' ? undefined : name.toLowerCase();
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
