// Declared vs kernel: what the spec says against what /proc/PID says of the container's first process.
// More privilege in the kernel than in the spec means the spec lies (a patched runtime, a container
// started outside Kubernetes, a process that escaped) and is a finding of its own.
import type { Check } from '../../check.js';
import { KERNEL_NAMESPACES, type HostNamespace, type KernelNamespace } from '../../../facts/containers.js';
import { containerCheck, ev, fail, pass } from './common.js';

const DECLARED_NAME: Partial<Record<KernelNamespace, HostNamespace>> = { pid: 'pid', ipc: 'ipc', net: 'network', uts: 'uts' };
const FILTERED = new Set(['runtime-default', 'localhost', 'profile']);

export const kernelDriftCheck: Check = containerCheck({
  id: 'container-kernel-drift', cis: null, severity: 'high',
  title: 'Kernel state of the container matches its declared spec',
  remediation: 'Find out who started or changed this process: the running container has privileges its spec does not grant. Recreate it from its spec and check the runtime and node for tampering.',
  judge(d, c, s) {
    const k = c.kernel;
    if (!k) {
      const why = c.pid === undefined ? 'no pid for this container' : `pid ${c.pid} could not be read`;
      return { status: 'skip', evidence: ev(c, 'kernel', null, 'kernel matches spec', why) };
    }
    const drift: string[] = [];
    const bounding = d.capabilities.bounding;
    if (bounding !== undefined && d.privileged !== true) {
      const declared = new Set([...bounding, ...(d.capabilities.effective ?? [])]);
      const extraEff = k.capEff.filter((cap) => !declared.has(cap));
      const extraBnd = k.capBnd.filter((cap) => !declared.has(cap));
      if (extraEff.length > 0) drift.push(`CapEff holds ${extraEff.join(', ')} not in the spec`);
      else if (extraBnd.length > 0) drift.push(`CapBnd holds ${extraBnd.join(', ')} not in the spec`);
    }
    if (d.noNewPrivileges === true && k.noNewPrivs === false) drift.push('no_new_privs declared but NoNewPrivs is 0');
    if (d.seccomp && FILTERED.has(d.seccomp) && k.seccompMode === 0) drift.push('seccomp filter declared but Seccomp is 0');
    if (d.uid !== undefined && d.uid !== 0 && k.uid === 0) drift.push(`uid ${d.uid} declared but the process runs as uid 0`);
    if (s.containers?.hostReference) {
      for (const ns of KERNEL_NAMESPACES) {
        const declaredHost = DECLARED_NAME[ns] !== undefined && d.hostNamespaces.includes(DECLARED_NAME[ns]!);
        if (k.sharedWithHost.includes(ns) && !declaredHost) drift.push(`shares the host's ${ns} namespace, not declared`);
      }
    }
    const e = ev(c, 'kernel', {
      capEff: k.capEff, noNewPrivs: k.noNewPrivs ?? null, seccomp: k.seccompMode ?? null, uid: k.uid ?? null,
      sharedWithHost: k.sharedWithHost,
    }, 'nothing beyond the declared spec', drift.length > 0 ? drift.join('; ') : undefined);
    e.source = `kernel (/proc/${c.pid}) vs ${e.source}`;
    return drift.length > 0 ? { ...fail(e), title: `Running container exceeds its spec: ${drift[0]}` } : pass(e);
  },
});
