// PSS appArmorProfile and seLinuxOptions, and /proc mount type (procMount).
import type { Check } from '../../check.js';
import { containerCheck, ev, fail, pass } from './common.js';

export const appArmorCheck: Check = containerCheck({
  id: 'container-apparmor', cis: null, pss: 'appArmorProfile', level: 'baseline', severity: 'medium',
  title: 'Container is not AppArmor-unconfined',
  remediation: 'Remove appArmorProfile.type: Unconfined (or the unconfined annotation); use RuntimeDefault or a Localhost profile.',
  judge(d, c) {
    const profile = d.appArmorProfile ?? null;
    const e = ev(c, 'securityContext.appArmorProfile', profile, 'unset, runtime/default or localhost/*');
    return profile === 'unconfined' ? fail(e) : pass(e);
  },
});

const ALLOWED_SELINUX_TYPES = new Set(['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

export const seLinuxCheck: Check = containerCheck({
  id: 'container-selinux', cis: null, pss: 'seLinuxOptions', level: 'baseline', severity: 'medium',
  title: 'Container uses an allowed SELinux type and sets no SELinux user or role',
  remediation: 'Leave seLinuxOptions.type unset or use container_t (container_init_t, container_kvm_t, container_engine_t); do not set user or role.',
  judge(d, c) {
    const se = d.seLinux ?? {};
    const problems: string[] = [];
    if (se.type && !ALLOWED_SELINUX_TYPES.has(se.type)) problems.push(`type ${se.type}`);
    if (se.user) problems.push(`user ${se.user}`);
    if (se.role) problems.push(`role ${se.role}`);
    const e = ev(c, 'securityContext.seLinuxOptions', se, 'type unset or container_t/container_init_t/container_kvm_t/container_engine_t; no user, no role',
      problems.length > 0 ? problems.join(', ') : undefined);
    return problems.length === 0 ? pass(e) : fail(e);
  },
});

export const procMountCheck: Check = containerCheck({
  id: 'container-proc-mount', cis: null, pss: 'procMount', level: 'baseline', severity: 'medium',
  title: "Container's /proc is masked (procMount Default)",
  remediation: 'Remove securityContext.procMount: Unmasked.',
  judge(d, c) {
    const e = ev(c, 'securityContext.procMount', d.procMount ?? 'Default', 'Default',
      d.procMount === 'Unmasked' && !d.sources.includes('podspec') ? 'the OCI spec masks no /proc path' : undefined);
    return d.procMount === 'Unmasked' ? fail(e) : pass(e);
  },
});
