// Kernel settings read under <proc-root>/sys and the state of the Linux security modules.
import type { GatherError } from './snapshot.js';

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
