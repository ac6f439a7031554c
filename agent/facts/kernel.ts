// Kernel settings read under <proc-root>/sys and the state of the Linux security modules.
import type { GatherError } from './file.js';

export interface KernelFact {
  /** sysctl name (dotted) → value as read, trimmed; only the ones checks need. */
  sysctls: Record<string, string>;
  /** Sysctls this kernel does not have (e.g. kernel.unprivileged_userns_clone outside Debian/Ubuntu kernels). */
  missing: string[];
  /** /sys/module/apparmor/parameters/enabled is `Y`; undefined when the file cannot be read. */
  appArmorEnabled?: boolean;
  /** From /sys/fs/selinux/enforce: `disabled` when selinuxfs is absent. */
  seLinux?: 'enforcing' | 'permissive' | 'disabled';
  errors: GatherError[];
}

/** What the kubelet's --protect-kernel-defaults requires (pkg/kubelet/cm setupKernelTunables). */
export const PROTECTED_SYSCTLS: Record<string, number> = {
  'vm.overcommit_memory': 1,
  'vm.panic_on_oom': 0,
  'kernel.panic': 10,
  'kernel.panic_on_oops': 1,
  'kernel.keys.root_maxkeys': 1_000_000,
  'kernel.keys.root_maxbytes': 25_000_000,
};
