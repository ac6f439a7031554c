// Every check Vigil runs, grouped by what it judges. A new check goes in its component's file.
import type { Check } from '../check.js';
import { masterFilesChecks } from './cis/master-files.js';
import { apiserverChecks } from './cis/apiserver.js';
import { controllerManagerChecks } from './cis/controller-manager.js';
import { schedulerChecks } from './cis/scheduler.js';
import { etcdChecks } from './cis/etcd.js';
import { controlPlaneConfigChecks } from './cis/control-plane-config.js';
import { kubeletChecks } from './cis/kubelet.js';
import { kubeProxyChecks } from './cis/kube-proxy.js';
import { containersChecks } from './containers/index.js';
import { portsChecks } from './ports.js';
import { pkiChecks } from './pki.js';
import { kernelChecks } from './kernel.js';
import { cniChecks } from './cni.js';
import { clusterPeersChecks } from './cluster-peers.js';

export const ALL_CHECKS: readonly Check[] = [
  ...masterFilesChecks,
  ...apiserverChecks,
  ...controllerManagerChecks,
  ...schedulerChecks,
  ...etcdChecks,
  ...controlPlaneConfigChecks,
  ...kubeletChecks,
  ...kubeProxyChecks,
  ...containersChecks,
  ...portsChecks,
  ...pkiChecks,
  ...kernelChecks,
  ...cniChecks,
  ...clusterPeersChecks,
];
