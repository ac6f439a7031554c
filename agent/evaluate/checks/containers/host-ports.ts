// PSS hostPorts (CIS 5.2.12). Port mappings live in the CRI sandbox config, not in an OCI spec.
import type { Check } from '../../check.js';
import { containerCheck, ev, fail, pass } from './common.js';

export const hostPortsCheck: Check = containerCheck({
  id: 'container-host-ports', cis: '5.2.12', pss: 'hostPorts', level: 'baseline', severity: 'medium',
  title: 'Container binds no host port',
  remediation: 'Remove ports[*].hostPort; expose the pod through a Service instead.',
  judge(d, c) {
    if (d.hostPorts === undefined) {
      return {
        status: 'skip',
        evidence: ev(c, 'ports[*].hostPort', null, 'unset or 0',
          'host ports are not in the OCI spec; the CRI socket did not answer (--cri-socket)'),
      };
    }
    const ports = d.hostPorts.filter((p) => p > 0);
    const e = ev(c, 'ports[*].hostPort', ports, 'unset or 0');
    return ports.length === 0 ? pass(e) : fail(e);
  },
});
