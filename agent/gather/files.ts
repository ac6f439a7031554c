// Owner and mode of the files the CIS checks judge, found the way each component finds them: from its own flags
// first, then the distributions' default paths (kubeadm, k3s, rke2, EKS, GKE).
import * as path from 'node:path';
import type { HostAccess } from './host.js';
import { lastFlag } from './flags.js';
import type { DiscoveredComponent, ComponentName, FileRole, KubeletConfigFact, KubeProxyConfigFact, Snapshot } from '../facts/snapshot.js';

type Components = Partial<Record<ComponentName, DiscoveredComponent>>;

const PKI_DIRS = ['/etc/kubernetes/pki', '/var/lib/rancher/k3s/server/tls', '/var/lib/rancher/rke2/server/tls'];
const ADMIN_KUBECONFIGS = ['/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf', '/etc/rancher/k3s/k3s.yaml', '/etc/rancher/rke2/rke2.yaml'];
const KUBELET_UNITS = [
  '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
  '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf',
  '/lib/systemd/system/kubelet.service.d/10-kubeadm.conf',
  '/etc/systemd/system/kubelet.service',
  '/usr/lib/systemd/system/kubelet.service',
  '/lib/systemd/system/kubelet.service',
];
const KUBELET_KUBECONFIGS = ['/etc/kubernetes/kubelet.conf', '/var/lib/kubelet/kubeconfig', '/var/lib/rancher/k3s/agent/kubelet.kubeconfig', '/var/lib/rancher/rke2/agent/kubelet.kubeconfig'];
const PROXY_KUBECONFIGS = [
  '/etc/kubernetes/proxy.conf', '/etc/kubernetes/kube-proxy.conf', '/var/lib/kube-proxy/kubeconfig.conf',
  '/var/lib/kube-proxy/kubeconfig', '/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig', '/var/lib/rancher/rke2/agent/kubeproxy.kubeconfig',
];
const MANIFEST_DEFAULTS: Partial<Record<ComponentName, string>> = {
  'kube-apiserver': 'kube-apiserver.yaml',
  'kube-controller-manager': 'kube-controller-manager.yaml',
  'kube-scheduler': 'kube-scheduler.yaml',
  etcd: 'etcd.yaml',
};
const MANIFEST_ROLES: [ComponentName, FileRole][] = [
  ['kube-apiserver', 'apiserver.manifest'],
  ['kube-controller-manager', 'controller-manager.manifest'],
  ['kube-scheduler', 'scheduler.manifest'],
  ['etcd', 'etcd.manifest'],
];

export function gatherFiles(
  host: HostAccess,
  components: Components,
  kubelet: KubeletConfigFact | undefined,
  kubeProxyConfig?: KubeProxyConfigFact,
): Snapshot['files'] {
  const files: Snapshot['files'] = {};
  const stat = (paths: (string | undefined)[]) => unique(paths).map((p) => host.stat(p));
  const existing = (paths: (string | undefined)[]) => stat(paths).filter((f) => f.exists || f.error);
  const firstExisting = (paths: (string | undefined)[]) => existing(paths).slice(0, 1);

  const manifestDir = kubelet?.staticPodPath ?? '/etc/kubernetes/manifests';
  for (const [name, role] of MANIFEST_ROLES) {
    const c = components[name];
    if (!c) continue;
    files[role] = stat([c.manifestPath ?? path.posix.join(manifestDir, MANIFEST_DEFAULTS[name]!)]);
  }

  const etcd = components.etcd;
  if (etcd) files['etcd.data-dir'] = stat([etcdDataDir(etcd)]);

  if (components['kube-apiserver']) {
    files['admin.kubeconfig'] = existing(ADMIN_KUBECONFIGS);
    const pkiDirs = unique([...PKI_DIRS.filter((d) => host.exists(d)), ...flagDirs(components['kube-apiserver'])]);
    const tree = pkiDirs.flatMap((d) => host.walk(d));
    files['pki.tree'] = tree;
    files['pki.cert'] = tree.filter((f) => f.type === 'file' && f.path.endsWith('.crt'));
    files['pki.key'] = tree.filter((f) => f.type === 'file' && f.path.endsWith('.key'));
  }
  const scheduler = components['kube-scheduler'];
  if (scheduler) files['scheduler.kubeconfig'] = stat([lastFlag(scheduler.flags, 'kubeconfig') ?? defaultKubeconfig(scheduler, 'scheduler')]);
  const cm = components['kube-controller-manager'];
  if (cm) files['controller-manager.kubeconfig'] = stat([lastFlag(cm.flags, 'kubeconfig') ?? defaultKubeconfig(cm, 'controller')]);

  const k = components.kubelet;
  if (k) {
    files['kubelet.service'] = existing(KUBELET_UNITS);
    const kubeconfig = lastFlag(k.flags, 'kubeconfig');
    files['kubelet.kubeconfig'] = kubeconfig ? stat([kubeconfig]) : firstExisting(KUBELET_KUBECONFIGS);
    // Only the config file the kubelet was really started with: never a guessed default path.
    files['kubelet.config'] = kubelet?.configPath ? stat([kubelet.configPath]) : [];
    const clientCa = kubelet?.settings['authentication.x509.clientCAFile']?.value;
    files['kubelet.client-ca'] = typeof clientCa === 'string' && clientCa !== '' ? stat([clientCa]) : [];
  }
  const proxy = components['kube-proxy'];
  if (proxy) {
    const kubeconfig = lastFlag(proxy.flags, 'kubeconfig') ?? kubeProxyConfig?.kubeconfig;
    files['kube-proxy.kubeconfig'] = kubeconfig ? stat([kubeconfig]) : firstExisting(PROXY_KUBECONFIGS);
  }
  return files;
}

/** kubeadm writes /etc/kubernetes/<x>.conf; k3s and rke2 keep their component kubeconfigs under server/cred. */
function defaultKubeconfig(c: DiscoveredComponent, which: 'scheduler' | 'controller'): string {
  if (c.distribution === 'k3s' || c.distribution === 'rke2') return `/var/lib/rancher/${c.distribution}/server/cred/${which}.kubeconfig`;
  return which === 'scheduler' ? '/etc/kubernetes/scheduler.conf' : '/etc/kubernetes/controller-manager.conf';
}

/** etcd's data dir: --data-dir, then ETCD_DATA_DIR, then the distributions' defaults. */
function etcdDataDir(etcd: DiscoveredComponent): string {
  return lastFlag(etcd.flags, 'data-dir')
    ?? etcd.env.ETCD_DATA_DIR
    ?? (etcd.distribution === 'k3s' ? '/var/lib/rancher/k3s/server/db/etcd'
      : etcd.distribution === 'rke2' ? '/var/lib/rancher/rke2/server/db/etcd' : '/var/lib/etcd');
}

/** Dirs of the CA and cert files the apiserver is started with (a PKI dir outside the defaults). */
function flagDirs(apiserver: DiscoveredComponent | undefined): string[] {
  if (!apiserver) return [];
  const ca = lastFlag(apiserver.flags, 'client-ca-file');
  return ca ? [path.posix.dirname(path.posix.resolve('/', ca))] : [];
}

function unique(paths: (string | undefined)[]): string[] {
  return [...new Set(paths.filter((p): p is string => typeof p === 'string' && p !== '').map((p) => path.posix.resolve('/', p)))];
}

