// Kernel settings read under <proc-root>/sys and LSM state.
export interface KernelFact {
  /** sysctl name (dotted) → value as read; only the ones checks need. */
  sysctls: Record<string, string>;
  appArmorEnabled?: boolean;
  seLinuxEnabled?: boolean;
}
