// CIS 1.1: control-plane node configuration files.
import type { Check } from '../../check.js';
import { ROOT, fileOwnershipCheck, filePermissionCheck } from './file-checks.js';

const chmod = (mode: string, what: string) => `Run \`chmod ${mode} ${what}\` on the node (or the path the component actually uses).`;
const chownRoot = (what: string) => `Run \`chown root:root ${what}\` on the node.`;

const manifestFiles: Check[] = [
  filePermissionCheck({
    id: 'cis-1.1.1', cis: '1.1.1', title: 'API server static-pod manifest mode 600 or tighter', severity: 'high',
    component: 'kube-apiserver', runsOn: 'kube-apiserver', files: 'apiserver.manifest', mask: 0o600,
    missing: 'no kube-apiserver manifest found (the API server does not run as a static pod)',
    remediation: chmod('600', '/etc/kubernetes/manifests/kube-apiserver.yaml'),
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.2', cis: '1.1.2', title: 'API server static-pod manifest owned by root', severity: 'high',
    component: 'kube-apiserver', runsOn: 'kube-apiserver', files: 'apiserver.manifest', owner: ROOT,
    missing: 'no kube-apiserver manifest found (the API server does not run as a static pod)',
    remediation: chownRoot('/etc/kubernetes/manifests/kube-apiserver.yaml'),
  }),
  filePermissionCheck({
    id: 'cis-1.1.3', cis: '1.1.3', title: 'Controller-manager manifest mode 600 or tighter', severity: 'high',
    component: 'kube-controller-manager', runsOn: 'kube-controller-manager', files: 'controller-manager.manifest', mask: 0o600,
    missing: 'no kube-controller-manager manifest found (it does not run as a static pod)',
    remediation: chmod('600', '/etc/kubernetes/manifests/kube-controller-manager.yaml'),
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.4', cis: '1.1.4', title: 'Controller-manager manifest owned by root', severity: 'high',
    component: 'kube-controller-manager', runsOn: 'kube-controller-manager', files: 'controller-manager.manifest', owner: ROOT,
    missing: 'no kube-controller-manager manifest found (it does not run as a static pod)',
    remediation: chownRoot('/etc/kubernetes/manifests/kube-controller-manager.yaml'),
  }),
  filePermissionCheck({
    id: 'cis-1.1.5', cis: '1.1.5', title: 'Scheduler manifest mode 600 or tighter', severity: 'high',
    component: 'kube-scheduler', runsOn: 'kube-scheduler', files: 'scheduler.manifest', mask: 0o600,
    missing: 'no kube-scheduler manifest found (it does not run as a static pod)',
    remediation: chmod('600', '/etc/kubernetes/manifests/kube-scheduler.yaml'),
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.6', cis: '1.1.6', title: 'Scheduler manifest owned by root', severity: 'high',
    component: 'kube-scheduler', runsOn: 'kube-scheduler', files: 'scheduler.manifest', owner: ROOT,
    missing: 'no kube-scheduler manifest found (it does not run as a static pod)',
    remediation: chownRoot('/etc/kubernetes/manifests/kube-scheduler.yaml'),
  }),
  filePermissionCheck({
    id: 'cis-1.1.7', cis: '1.1.7', title: 'etcd static-pod manifest mode 600 or tighter', severity: 'high',
    component: 'etcd', runsOn: 'etcd', files: 'etcd.manifest', mask: 0o600,
    missing: 'no etcd manifest found (etcd does not run as a static pod)',
    remediation: chmod('600', '/etc/kubernetes/manifests/etcd.yaml'),
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.8', cis: '1.1.8', title: 'etcd static-pod manifest owned by root', severity: 'high',
    component: 'etcd', runsOn: 'etcd', files: 'etcd.manifest', owner: ROOT,
    missing: 'no etcd manifest found (etcd does not run as a static pod)',
    remediation: chownRoot('/etc/kubernetes/manifests/etcd.yaml'),
  }),
];

const cniFiles: Check[] = [
  filePermissionCheck({
    id: 'cis-1.1.9', cis: '1.1.9', title: 'CNI config and state files mode 600 or tighter', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', files: (s) => s.cni.files, mask: 0o600,
    missing: 'no CNI configuration or state files found',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every CNI config and state file found.',
    remediation: 'Run `chmod 600` on every file in the CNI config dir (kubelet --cni-conf-dir, default /etc/cni/net.d) and under /var/lib/cni/networks/.',
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.10', cis: '1.1.10', title: 'CNI config and state files owned by root', severity: 'medium',
    component: 'kubelet', runsOn: 'kubelet', files: (s) => s.cni.files, owner: ROOT,
    missing: 'no CNI configuration or state files found',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every CNI config and state file found.',
    remediation: 'Run `chown root:root` on every file in the CNI config dir (default /etc/cni/net.d) and under /var/lib/cni/networks/.',
  }),
];

const etcdDataDir: Check[] = [
  filePermissionCheck({
    id: 'cis-1.1.11', cis: '1.1.11', title: 'etcd data directory mode 700 or tighter', severity: 'high',
    component: 'etcd', runsOn: 'etcd', files: 'etcd.data-dir', mask: 0o700,
    missing: 'etcd data directory not found',
    remediation: 'Run `chmod 700` on the etcd data directory (etcd --data-dir, e.g. chmod 700 /var/lib/etcd).',
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.12', cis: '1.1.12', title: 'etcd data directory owned by etcd user', severity: 'medium',
    component: 'etcd', runsOn: 'etcd', files: 'etcd.data-dir', owner: { user: 'etcd', group: 'etcd' },
    missing: 'etcd data directory not found',
    remediation: 'Create an `etcd` user and group if needed and run `chown etcd:etcd` on the etcd data directory (etcd --data-dir, e.g. chown etcd:etcd /var/lib/etcd).',
  }),
];

const kubeconfigs: Check[] = [
  filePermissionCheck({
    id: 'cis-1.1.13', cis: '1.1.13', title: 'Admin kubeconfig files mode 600 or tighter', severity: 'critical',
    component: 'cluster', files: 'admin.kubeconfig', mask: 0o600,
    missing: 'no admin kubeconfig (admin.conf, super-admin.conf) found',
    remediation: chmod('600', '/etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf'),
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.14', cis: '1.1.14', title: 'Admin kubeconfig files owned by root', severity: 'critical',
    component: 'cluster', files: 'admin.kubeconfig', owner: ROOT,
    missing: 'no admin kubeconfig (admin.conf, super-admin.conf) found',
    remediation: chownRoot('/etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf'),
  }),
  filePermissionCheck({
    id: 'cis-1.1.15', cis: '1.1.15', title: 'Scheduler kubeconfig mode 600 or tighter', severity: 'high',
    component: 'kube-scheduler', runsOn: 'kube-scheduler', files: 'scheduler.kubeconfig', mask: 0o600,
    missing: 'no kube-scheduler kubeconfig found',
    remediation: chmod('600', '/etc/kubernetes/scheduler.conf'),
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.16', cis: '1.1.16', title: 'Scheduler kubeconfig owned by root', severity: 'high',
    component: 'kube-scheduler', runsOn: 'kube-scheduler', files: 'scheduler.kubeconfig', owner: ROOT,
    missing: 'no kube-scheduler kubeconfig found',
    remediation: chownRoot('/etc/kubernetes/scheduler.conf'),
  }),
  filePermissionCheck({
    id: 'cis-1.1.17', cis: '1.1.17', title: 'Controller-manager kubeconfig mode 600 or tighter', severity: 'high',
    component: 'kube-controller-manager', runsOn: 'kube-controller-manager', files: 'controller-manager.kubeconfig', mask: 0o600,
    missing: 'no kube-controller-manager kubeconfig found',
    remediation: chmod('600', '/etc/kubernetes/controller-manager.conf'),
  }),
  fileOwnershipCheck({
    id: 'cis-1.1.18', cis: '1.1.18', title: 'Controller-manager kubeconfig owned by root', severity: 'high',
    component: 'kube-controller-manager', runsOn: 'kube-controller-manager', files: 'controller-manager.kubeconfig', owner: ROOT,
    missing: 'no kube-controller-manager kubeconfig found',
    remediation: chownRoot('/etc/kubernetes/controller-manager.conf'),
  }),
];

const pki: Check[] = [
  fileOwnershipCheck({
    id: 'cis-1.1.19', cis: '1.1.19', title: 'PKI directory tree owned by root', severity: 'high',
    component: 'cluster', files: 'pki.tree', owner: ROOT,
    missing: 'no Kubernetes PKI directory found',
    remediation: 'Run `chown -R root:root /etc/kubernetes/pki/`.',
  }),
  filePermissionCheck({
    id: 'cis-1.1.20', cis: '1.1.20', title: 'PKI certificates mode 644 or tighter', severity: 'medium',
    component: 'cluster', files: 'pki.cert', mask: 0o644,
    missing: 'no certificate files found in the Kubernetes PKI directory',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every *.crt file in the PKI tree.',
    remediation: 'Run `find /etc/kubernetes/pki -name "*.crt" -exec chmod 644 {} +`.',
  }),
  filePermissionCheck({
    id: 'cis-1.1.21', cis: '1.1.21', title: 'PKI private keys mode 600 or tighter', severity: 'critical',
    component: 'cluster', files: 'pki.key', mask: 0o600,
    missing: 'no private key files found in the Kubernetes PKI directory',
    differsFromKubeBench: 'kube-bench lists this as a manual check; Vigil judges every *.key file in the PKI tree.',
    remediation: 'Run `find /etc/kubernetes/pki -name "*.key" -exec chmod 600 {} +`.',
  }),
];

export const masterFilesChecks: Check[] = [...manifestFiles, ...cniFiles, ...etcdDataDir, ...kubeconfigs, ...pki];
