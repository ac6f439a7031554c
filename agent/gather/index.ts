// gather: read the host into a typed Snapshot. Order matters only where one fact locates another
// (the kubelet's flags name its config file; component flags name the files the checks judge).
import { HostAccess } from './host.js';
import type { GatherOptions } from './options.js';
import type { ComponentFact, ComponentName, Snapshot } from '../facts/snapshot.js';
import { discoverProcesses, withStaticPods, type Components, type Discovery } from './components.js';
import { componentSettings } from './component-settings.js';
import { gatherKubeletConfig } from './kubelet-config.js';
import { gatherFiles } from './files.js';
import { gatherEncryptionConfig } from './encryption-config.js';
import { gatherKubeProxyConfig } from './kube-proxy-config.js';
import { gatherNodeInfo } from './node-info.js';
import { gatherContainers } from './containers/index.js';
import { gatherSockets } from './sockets/index.js';
import { gatherPki } from './pki/index.js';
import { gatherKernel } from './kernel/index.js';
import { gatherCni } from './cni/index.js';

export type { GatherOptions } from './options.js';

export async function gatherSnapshot(opts: GatherOptions): Promise<Snapshot> {
  const host = new HostAccess(opts);
  try {
    return await gather(host, opts);
  } finally {
    host.close();
  }
}

async function gather(host: HostAccess, opts: GatherOptions): Promise<Snapshot> {
  const parts = await gatherComponentFacts(host, opts, discoverProcesses(host));
  const containers = await gatherContainers(host, opts, parts.components);
  return {
    ...parts,
    hostRoot: host.hostRoot,
    procRoot: host.procRoot,
    ...(process.geteuid ? { scannedAs: { uid: process.geteuid() } } : {}),
    containers,
    sockets: gatherSockets(host, containers),
    kernel: gatherKernel(host),
  };
}

/** The parts of a snapshot that follow from which components run and how (probe.ts re-gathers them together). */
type ComponentFacts = Pick<Snapshot, 'node' | 'components' | 'ignoredProcesses' | 'kubelet' | 'files'
  | 'encryptionConfig' | 'kubeProxyConfig' | 'certificates' | 'keys' | 'cni' | 'errors'>;

/** Everything that follows from the processes discovered: their config files, the files they name, PKI, CNI, node. */
export async function gatherComponentFacts(host: HostAccess, opts: GatherOptions, processes: Discovery): Promise<ComponentFacts> {
  const errors: Snapshot['errors'] = [...processes.errors];
  const kubelet = processes.components.kubelet ? gatherKubeletConfig(host, processes.components.kubelet) : undefined;
  if (kubelet) errors.push(...kubelet.errors);
  // The kubelet's staticPodPath says where control-plane manifests live; they also cover components not visible as processes.
  const discovered = withStaticPods(host, processes.components, kubelet?.staticPodPath);
  errors.push(...discovered.errors);
  const kubeProxyConfig = gatherKubeProxyConfig(host, discovered.components['kube-proxy']);
  const components = withSettings(discovered.components, kubeProxyConfig);
  const pki = gatherPki(host, components, kubelet);
  return {
    node: await gatherNodeInfo(host, components, kubelet, opts.nodeName),
    components,
    ...(processes.ignored && processes.ignored.length > 0 ? { ignoredProcesses: processes.ignored } : {}),
    kubelet,
    files: gatherFiles(host, components, kubelet, kubeProxyConfig),
    encryptionConfig: gatherEncryptionConfig(host, components['kube-apiserver']),
    kubeProxyConfig,
    certificates: pki.certificates,
    keys: pki.keys,
    cni: gatherCni(host, components, kubelet),
    errors,
  };
}

function withSettings(discovered: Components, kubeProxyConfig: Snapshot['kubeProxyConfig']): Partial<Record<ComponentName, ComponentFact>> {
  const out: Partial<Record<ComponentName, ComponentFact>> = {};
  for (const [name, c] of Object.entries(discovered) as [ComponentName, Components[ComponentName]][]) {
    if (c) out[name] = { ...c, settings: componentSettings(c, kubeProxyConfig) };
  }
  return out;
}
