// A report whose host data tries to break out of every context an HTML page puts it in (text, attributes,
// <details>, <script>), for the HTML report's escaping tests (unit and real browser).
import type { NodeReport } from '../../../proto/report.js';
import { finding, report } from '../../unit/report/sample-report.js';

export const HOSTILE = '</script><script>alert(1)</script><img src=x onerror="alert(2)">';

export function hostileReport(): NodeReport {
  return report([
    finding({
      checkId: 'container-privileged', cis: '5.2.2', status: 'fail', severity: 'critical', component: 'container',
      title: `Container ${HOSTILE} is privileged`,
      resource: { kind: 'container', id: 'abc123', namespace: 'ns"\'><b>x</b>', pod: HOSTILE, container: '</textarea></style></details>', image: `img${HOSTILE}` },
      evidence: { source: 'oci-spec', key: '<key>', value: { [HOSTILE]: '"quoted" & <tagged>' }, expected: '</dd></dl><script>x()</script>', detail: 'bell\u0007 and\u001b[31m escape' },
      remediation: `Remove ${HOSTILE} & restart`,
    }),
  ]);
}
