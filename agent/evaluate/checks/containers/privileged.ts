// PSS baseline "privileged" (CIS 5.2.2) and the host namespaces (CIS 5.2.3–5.2.5).
import type { Check } from '../../check.js';
import type { HostNamespace } from '../../../facts/containers.js';
import { containerCheck, ev, fail, isLiteral, pass } from './common.js';

export const privilegedCheck: Check = containerCheck({
  id: 'container-privileged', cis: '5.2.2', pss: 'privileged', level: 'baseline', severity: 'critical',
  title: 'Container is not privileged',
  remediation: 'Remove securityContext.privileged: true; grant only the capabilities the workload needs.',
  judge(d, c) {
    const detail = isLiteral(d) ? undefined
      : 'derived from the OCI spec: every capability granted and the /proc and /sys masks lifted';
    const e = ev(c, 'securityContext.privileged', d.privileged === true, 'false or unset', detail);
    return d.privileged === true ? fail(e) : pass(e);
  },
});

function hostNamespaceCheck(ns: HostNamespace, field: string, cis: string, id: string): Check {
  return containerCheck({
    id, cis, pss: 'hostNamespaces', level: 'baseline', severity: 'high',
    title: `Container does not share the host's ${ns === 'network' ? 'network' : ns.toUpperCase()} namespace`,
    remediation: `Remove spec.${field}: true from the pod.`,
    judge(d, c) {
      const shared = d.hostNamespaces.includes(ns);
      const e = ev(c, `spec.${field}`, shared, 'false or unset');
      return shared ? fail(e) : pass(e);
    },
  });
}

export const hostNamespaceChecks: Check[] = [
  hostNamespaceCheck('pid', 'hostPID', '5.2.3', 'container-host-pid'),
  hostNamespaceCheck('ipc', 'hostIPC', '5.2.4', 'container-host-ipc'),
  hostNamespaceCheck('network', 'hostNetwork', '5.2.5', 'container-host-network'),
];
