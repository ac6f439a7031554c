// Kernel settings under <proc-root>/sys and whether AppArmor or SELinux is on. The LSM files live in
// sysfs, read under the host root (a DaemonSet mounts the host's /sys there).
import type { HostAccess } from '../host.js';
import type { GatherError } from '../../facts/snapshot.js';
import { PROTECTED_SYSCTLS, type KernelFact } from '../../facts/kernel.js';

const HARDENING_SYSCTLS = [
  'kernel.unprivileged_userns_clone',
  'user.max_user_namespaces',
  'kernel.kptr_restrict',
  'kernel.dmesg_restrict',
];

const SYSCTL_MAX_BYTES = 4096;

export function gatherKernel(host: HostAccess): KernelFact {
  const fact: KernelFact = { sysctls: {}, missing: [], errors: [] };
  for (const name of [...Object.keys(PROTECTED_SYSCTLS), ...HARDENING_SYSCTLS]) {
    const r = host.readProc(['sys', ...name.split('.')], SYSCTL_MAX_BYTES);
    if (r.ok) fact.sysctls[name] = r.data.toString('utf8').trim();
    else if (r.error.code === 'ENOENT') fact.missing.push(name);
    else fact.errors.push(r.error);
  }
  const apparmor = readFlag(host, '/sys/module/apparmor/parameters/enabled', fact.errors);
  if (apparmor !== undefined) fact.appArmorEnabled = apparmor === 'Y';
  // Only a mounted sysfs without the module says "not built in"; no sysfs at all says nothing.
  else if (host.exists('/sys/module') && !host.exists('/sys/module/apparmor')) fact.appArmorEnabled = false;
  const enforce = readFlag(host, '/sys/fs/selinux/enforce', fact.errors);
  if (enforce !== undefined) fact.seLinux = enforce === '1' ? 'enforcing' : 'permissive';
  else if (host.exists('/sys/fs/cgroup') && !host.exists('/sys/fs/selinux')) fact.seLinux = 'disabled';
  return fact;
}

function readFlag(host: HostAccess, hostPath: string, errors: GatherError[]): string | undefined {
  const r = host.readText(hostPath, SYSCTL_MAX_BYTES);
  if (r.ok) return r.text.trim();
  if (r.error.code !== 'ENOENT') errors.push(r.error);
  return undefined;
}
