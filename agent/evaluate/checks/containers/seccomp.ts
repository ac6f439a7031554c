// PSS seccompProfile_baseline and seccompProfile_restricted.
// On a node an unset profile and an explicit Unconfined look the same: the kubelet sends Unconfined for
// both (unless --seccomp-default). So a container running without a filter is a baseline `warn` there,
// and a `fail` only in a manifest that says Unconfined.
import type { Check } from '../../check.js';
import { containerCheck, ev, fail, isManifest, pass } from './common.js';

const FILTERED = new Set(['runtime-default', 'localhost', 'profile']);

export const seccompBaselineCheck: Check = containerCheck({
  id: 'container-seccomp-baseline', cis: null, pss: 'seccompProfile_baseline', level: 'baseline', severity: 'medium',
  title: 'Container is not seccomp-unconfined',
  remediation: 'Set securityContext.seccompProfile.type: RuntimeDefault (pod or container level).',
  judge(d, c) {
    const value = d.seccomp ?? 'unset';
    const e = ev(c, 'securityContext.seccompProfile.type', value, 'unset, RuntimeDefault or Localhost');
    if (value !== 'unconfined') return pass(e);
    if (isManifest(d)) return fail(e);
    return {
      status: 'warn',
      evidence: { ...e, detail: 'runs without a seccomp filter; the node cannot tell an unset profile from an explicit Unconfined' },
    };
  },
});

export const seccompRestrictedCheck: Check = containerCheck({
  id: 'container-seccomp-restricted', cis: null, pss: 'seccompProfile_restricted', level: 'restricted', severity: 'medium',
  title: 'Container runs with a RuntimeDefault or Localhost seccomp profile',
  remediation: 'Set securityContext.seccompProfile.type: RuntimeDefault (pod or container level).',
  judge(d, c) {
    const value = d.seccomp ?? 'unset';
    const e = ev(c, 'securityContext.seccompProfile.type', value, 'RuntimeDefault or Localhost',
      value === 'profile' ? 'a seccomp filter is applied (RuntimeDefault or Localhost)' : undefined);
    return FILTERED.has(value) ? pass(e) : fail(e);
  },
});
