// The node kernel: the sysctls the kubelet's --protect-kernel-defaults insists on (judged together with that
// setting), hardening sysctls, and whether a Linux security module confines containers at all.
import type { Evidence, Severity, Status } from '../../../proto/report.js';
import { fact, setting } from '../../facts/inputs.js';
import type { Check, Verdict } from '../check.js';
import type { Snapshot } from '../../facts/snapshot.js';
import { parseGoBool } from '../../../common/bool.js';
import { PROTECTED_SYSCTLS } from '../../facts/kernel.js';

function sysctlEvidence(s: Snapshot, key: string, expected: string, detail: string): Evidence {
  const e: Evidence = { source: 'sysctl', path: `/proc/sys/${key.replace(/\./g, '/')}`, key, expected, detail };
  if (s.kernel.sysctls[key] !== undefined) e.value = s.kernel.sysctls[key];
  return e;
}

/** A sysctl that could not be read: missing from this kernel, or a read error. */
function unreadable(s: Snapshot, key: string, expected: string): Verdict | undefined {
  if (s.kernel.sysctls[key] !== undefined) return undefined;
  const error = s.kernel.errors.find((e) => e.path.endsWith(`/sys/${key.replace(/\./g, '/')}`));
  return {
    status: error ? 'error' : 'skip',
    resource: { kind: 'kernel', key },
    evidence: sysctlEvidence(s, key, expected, error ? `${error.code}: ${error.message}` : 'this kernel has no such sysctl'),
  };
}

function intOf(v: string | undefined): number | undefined {
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

function kubeletBool(s: Snapshot, key: string): boolean | undefined {
  return parseGoBool(s.kubelet?.settings[key]?.value);
}

const protectKernelDefaults: Check = {
  id: 'kernel-protect-defaults', cis: null, severity: 'medium', component: 'kubelet',
  title: 'Kernel settings the kubelet protects',
  remediation: 'Set the values the kubelet expects in /etc/sysctl.d/90-kubelet.conf (vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10, kernel.panic_on_oops=1, kernel.keys.root_maxkeys=1000000, kernel.keys.root_maxbytes=25000000), run `sysctl --system`, then set protectKernelDefaults: true in the kubelet config.',
  reads: [fact('kernel'), setting('kubelet', 'protectKernelDefaults')],
  evaluate(s) {
    if (!s.components.kubelet) return [];
    const protect = kubeletBool(s, 'protectKernelDefaults');
    return Object.entries(PROTECTED_SYSCTLS).map(([key, want]): Verdict => {
      // The kubelet (setupKernelTunables) compares every value for equality, keyring quotas included: a larger
      // quota also stops a kubelet with protectKernelDefaults=true, and one without it lowers the quota at start.
      const expected = String(want);
      const missing = unreadable(s, key, expected);
      if (missing) return missing;
      const value = intOf(s.kernel.sysctls[key]);
      const ok = value === want;
      let status: Status;
      let severity: Severity | undefined;
      let detail: string;
      if (ok) {
        status = 'pass';
        detail = protect
          ? 'matches; protectKernelDefaults=true keeps it that way'
          : `matches; protectKernelDefaults=${String(protect ?? 'unset')}, so the kubelet would silently overwrite a different value instead of refusing to start`;
      } else if (protect) {
        status = 'fail';
        severity = 'high';
        detail = `differs from ${expected}: with protectKernelDefaults=true the kubelet refuses to start on this node`;
      } else {
        status = 'warn';
        detail = `differs from ${expected} while protectKernelDefaults=${String(protect ?? 'unset')}: the kubelet overwrites it at start, so it was changed since, or the kubelet could not set it`;
      }
      const v: Verdict = { status, resource: { kind: 'kernel', key }, evidence: sysctlEvidence(s, key, expected, detail) };
      if (severity) v.severity = severity;
      return v;
    });
  },
};

const unprivilegedUserns: Check = {
  id: 'kernel-unprivileged-userns', cis: null, severity: 'medium', component: 'node',
  title: 'Unprivileged users can create user namespaces',
  remediation: 'Unless pods use Kubernetes user namespaces (hostUsers: false), set kernel.unprivileged_userns_clone=0 (Debian/Ubuntu kernels) or user.max_user_namespaces=0 in /etc/sysctl.d/ and run `sysctl --system`: user namespaces expose kernel code paths that most container escapes go through.',
  reads: [fact('kernel')],
  evaluate(s) {
    const clone = s.kernel.sysctls['kernel.unprivileged_userns_clone'];
    const max = s.kernel.sysctls['user.max_user_namespaces'];
    if (clone !== undefined) {
      const key = 'kernel.unprivileged_userns_clone';
      return [{
        status: clone === '0' ? 'pass' : 'warn',
        resource: { kind: 'kernel', key },
        evidence: sysctlEvidence(s, key, '0', clone === '0' ? 'unprivileged user namespaces are off' : 'unprivileged processes may create user namespaces'),
      }];
    }
    const key = 'user.max_user_namespaces';
    const missing = unreadable(s, key, '0');
    if (missing) return [missing];
    const off = intOf(max) === 0;
    return [{
      status: off ? 'pass' : 'warn',
      resource: { kind: 'kernel', key },
      evidence: sysctlEvidence(s, key, '0', off
        ? 'no user namespaces can be created'
        : 'this kernel has no kernel.unprivileged_userns_clone switch, so any user may create user namespaces while user.max_user_namespaces > 0'),
    }];
  },
};

function minimumSysctl(id: string, key: string, min: number, title: string, why: string): Check {
  return {
    id, cis: null, severity: 'low', component: 'node', title,
    remediation: `Set ${key}=${min} in /etc/sysctl.d/ and run \`sysctl --system\`.`,
    reads: [fact('kernel')],
    evaluate(s) {
      const missing = unreadable(s, key, `>= ${min}`);
      if (missing) return [missing];
      const value = intOf(s.kernel.sysctls[key]);
      const ok = value !== undefined && value >= min;
      return [{ status: ok ? 'pass' : 'fail', resource: { kind: 'kernel', key }, evidence: sysctlEvidence(s, key, `>= ${min}`, ok ? 'restricted' : why) }];
    },
  };
}

const lsm: Check = {
  id: 'kernel-lsm', cis: null, severity: 'medium', component: 'node',
  title: 'A Linux security module (AppArmor or SELinux) is enabled',
  remediation: 'Boot with AppArmor (apparmor=1 security=apparmor) or SELinux in enforcing mode, so the runtime\'s default profiles confine containers.',
  reads: [fact('kernel')],
  evaluate(s) {
    const { appArmorEnabled: apparmor, seLinux } = s.kernel;
    const detail = `AppArmor ${apparmor === undefined ? 'unknown' : apparmor ? 'enabled' : 'disabled'}, SELinux ${seLinux ?? 'unknown'}`;
    const evidence: Evidence = { source: 'sysfs', path: '/sys/module/apparmor/parameters/enabled', expected: 'AppArmor enabled or SELinux enforcing', value: { appArmor: apparmor, seLinux }, detail };
    const error = s.kernel.errors.find((e) => e.path.includes('apparmor') || e.path.includes('selinux'));
    let status: Status;
    if (apparmor || seLinux === 'enforcing') status = 'pass';
    else if (seLinux === 'permissive') status = 'warn';
    else if (apparmor === false && seLinux === 'disabled') status = 'fail';
    else status = error ? 'error' : 'skip';
    if (error && (status === 'error' || status === 'skip')) evidence.detail += `; ${error.path}: ${error.code}`;
    return [{ status, resource: { kind: 'kernel', key: 'lsm' }, evidence }];
  },
};

export const kernelChecks: Check[] = [
  protectKernelDefaults,
  unprivilegedUserns,
  minimumSysctl('kernel-kptr-restrict', 'kernel.kptr_restrict', 1, 'Kernel pointers hidden from unprivileged users',
    'kernel addresses in /proc are readable, which defeats KASLR for a local attacker'),
  minimumSysctl('kernel-dmesg-restrict', 'kernel.dmesg_restrict', 1, 'Kernel log restricted to privileged users',
    'any user can read the kernel log (addresses, hardware and driver details useful to an exploit)'),
  lsm,
];
