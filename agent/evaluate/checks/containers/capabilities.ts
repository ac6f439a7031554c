// PSS capabilities_baseline (CIS 5.2.9), capabilities_restricted, and NET_RAW (CIS 5.2.8).
// An OCI spec carries the resulting capability sets, not Kubernetes' add/drop lists: what was added is
// then the bounding set minus the runtime's default set.
import type { Check } from '../../check.js';
import { RUNTIME_DEFAULT_CAPABILITIES, type DeclaredFact } from '../../../facts/containers.js';
import { containerCheck, ev, fail, pass } from './common.js';

const BASELINE_ALLOWED_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

/** Added capabilities and whether the list is literal (CRI/PodSpec) or derived from the OCI bounding set. */
function addedCapabilities(d: DeclaredFact): { added: string[]; derived: boolean } {
  if (d.capabilities.added) return { added: d.capabilities.added, derived: false };
  // A privileged container's full set is the privileged control's finding, not an add list.
  if (d.privileged || !d.capabilities.bounding) return { added: [], derived: true };
  const defaults = new Set(RUNTIME_DEFAULT_CAPABILITIES);
  return { added: d.capabilities.bounding.filter((c) => !defaults.has(c)), derived: true };
}

const DERIVED = 'derived: OCI bounding set minus the runtime default set';

export const capabilitiesBaselineCheck: Check = containerCheck({
  id: 'container-capabilities-baseline', cis: '5.2.9', pss: 'capabilities_baseline', level: 'baseline', severity: 'high',
  title: 'Container adds no capability beyond the baseline set',
  remediation: 'Remove capabilities.add entries outside AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT.',
  judge(d, c) {
    const { added, derived } = addedCapabilities(d);
    const forbidden = added.filter((cap) => !BASELINE_ALLOWED_CAPABILITIES.has(cap));
    const e = ev(c, 'securityContext.capabilities.add', added, 'only baseline capabilities', derived ? DERIVED : undefined);
    if (forbidden.length === 0) return pass(e);
    const critical = forbidden.some((cap) => cap === 'ALL' || cap === 'SYS_ADMIN' || cap === 'SYS_MODULE');
    return { ...fail(e, critical ? 'critical' : undefined), title: `Container adds ${forbidden.join(', ')}` };
  },
});

export const capabilitiesRestrictedCheck: Check = containerCheck({
  id: 'container-capabilities-restricted', cis: null, pss: 'capabilities_restricted', level: 'restricted', severity: 'medium',
  title: 'Container drops ALL capabilities and adds at most NET_BIND_SERVICE',
  remediation: 'Set securityContext.capabilities.drop: ["ALL"] and add back only NET_BIND_SERVICE if needed.',
  judge(d, c) {
    const { added, dropped, bounding } = d.capabilities;
    if (dropped !== undefined) {
      const extra = (added ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
      const ok = dropped.includes('ALL') && extra.length === 0;
      const e = ev(c, 'securityContext.capabilities', { drop: dropped, add: added ?? [] }, 'drop: [ALL], add ⊆ [NET_BIND_SERVICE]');
      return ok ? pass(e) : fail(e);
    }
    const held = (bounding ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    const e = ev(c, 'process.capabilities.bounding', bounding ?? [], '⊆ [NET_BIND_SERVICE]',
      'judged on the OCI bounding set: only an empty set (or NET_BIND_SERVICE) shows drop ALL');
    return held.length === 0 ? pass(e) : fail(e);
  },
});

export const netRawCheck: Check = containerCheck({
  id: 'container-net-raw', cis: '5.2.8', severity: 'medium',
  title: 'Container does not hold NET_RAW',
  remediation: 'Drop NET_RAW (or ALL) in securityContext.capabilities.drop; it allows packet spoofing on the pod network.',
  judge(d, c) {
    const { added, dropped, bounding } = d.capabilities;
    let holds: boolean;
    if (bounding !== undefined) holds = d.privileged === true || bounding.includes('NET_RAW');
    else holds = d.privileged === true || (added ?? []).some((x) => x === 'NET_RAW' || x === 'ALL')
      || !(dropped ?? []).some((x) => x === 'NET_RAW' || x === 'ALL');
    const e = ev(c, 'capabilities', holds ? 'NET_RAW held' : 'NET_RAW not held', 'NET_RAW dropped');
    return holds ? fail(e) : pass(e);
  },
});
