// Every fixture host of test/fixtures/hosts (and the bench's container-heavy node), by name: the regression guard
// scans them all and compares the findings with the recorded ones.
import type { HostSpec } from '../../fixtures/build.js';
import { hardenedWorker } from '../../fixtures/hosts/hardened-worker.js';
import {
  danglingConfig, directoryConfig, fifoConfig, hostileProcesses, hugeConfig, invalidYamlConfig, scalarYamlConfig,
  symlinkLoopConfig,
} from '../../fixtures/hosts/hostile.js';
import { insecureNode } from '../../fixtures/hosts/insecure-node.js';
import {
  configDirDropIns, decoyProcesses, flagOverridesConfig, flagsOnlyKubelet, hyperkubeKubelet, k3sServer, nonDefaultConfigPath,
} from '../../fixtures/hosts/kube-bench-cases.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { containerHeavyNode } from '../../bench/containers.js';

export const FIXTURE_HOSTS: Record<string, () => HostSpec> = {
  'kubeadm-control-plane': kubeadmControlPlane,
  'hardened-worker': hardenedWorker,
  'insecure-node': insecureNode,
  'non-default-config-path': nonDefaultConfigPath,
  'flags-only-kubelet': flagsOnlyKubelet,
  'flag-overrides-config': flagOverridesConfig,
  'config-dir-drop-ins': configDirDropIns,
  'decoy-processes': decoyProcesses,
  'hyperkube-kubelet': hyperkubeKubelet,
  'k3s-server': k3sServer,
  'dangling-config': danglingConfig,
  'symlink-loop-config': symlinkLoopConfig,
  'huge-config': hugeConfig,
  'invalid-yaml-config': invalidYamlConfig,
  'scalar-yaml-config': scalarYamlConfig,
  'fifo-config': fifoConfig,
  'directory-config': directoryConfig,
  'hostile-processes': hostileProcesses,
  'container-heavy-node': containerHeavyNode,
};
