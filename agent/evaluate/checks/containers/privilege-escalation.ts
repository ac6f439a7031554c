// PSS allowPrivilegeEscalation (CIS 5.2.6): no_new_privs on the process.
import type { Check } from '../../check.js';
import { containerCheck, ev, fail, isManifest, pass } from './common.js';

export const privilegeEscalationCheck: Check = containerCheck({
  id: 'container-privilege-escalation', cis: '5.2.6', pss: 'allowPrivilegeEscalation', level: 'restricted', severity: 'medium',
  title: 'Container cannot gain privileges (allowPrivilegeEscalation: false)',
  remediation: 'Set securityContext.allowPrivilegeEscalation: false.',
  differsFromKubeBench: 'kube-bench passes an unset allowPrivilegeEscalation; unset means no_new_privs is off and a setuid binary can raise privileges, so Vigil (like PSS restricted) fails it.',
  judge(d, c) {
    if (isManifest(d)) {
      const ok = d.allowPrivilegeEscalation === false && d.privileged !== true;
      const e = ev(c, 'securityContext.allowPrivilegeEscalation', d.allowPrivilegeEscalation ?? null, 'false (set explicitly)');
      return ok ? pass(e) : fail(e);
    }
    const e = ev(c, 'process.noNewPrivileges', d.noNewPrivileges === true, 'true (allowPrivilegeEscalation: false)');
    return d.noNewPrivileges === true ? pass(e) : fail(e);
  },
});
