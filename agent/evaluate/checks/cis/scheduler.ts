// CIS 1.4: kube-scheduler flags.
import type { Check } from '../../check.js';
import type { ComponentFact } from '../../../facts/snapshot.js';
import { bindAddressLoopback, componentCheck, flagBool, flagEvidence, isSet, lastFlag, type Judgement } from './helpers.js';

const inManifest = (change: string) =>
  `Edit the kube-scheduler manifest (/etc/kubernetes/manifests/kube-scheduler.yaml, or its unit/arguments) and ${change}.`;

/** With --config, the scheduler ignores --profiling and reads enableProfiling from the file (default true). */
function profiling(c: ComponentFact): Judgement {
  if (isSet(c, 'config')) {
    return {
      status: 'warn',
      evidence: flagEvidence(c, 'profiling', 'false', {
        detail: `--config ${lastFlag(c, 'config')} is set: the scheduler ignores --profiling and uses enableProfiling from that file (default true), which Vigil does not read`,
      }),
    };
  }
  return flagBool('profiling', false, true)(c);
}

export const schedulerChecks: Check[] = [
  componentCheck({
    id: 'cis-1.4.1', cis: '1.4.1', title: 'Scheduler profiling endpoints off', severity: 'low',
    component: 'kube-scheduler', judge: profiling,
    remediation: inManifest('set --profiling=false, or enableProfiling: false in the KubeSchedulerConfiguration named by --config'),
    differsFromKubeBench: 'When --config is set the flag is ignored by the scheduler, so Vigil warns instead of judging the flag.',
  }),
  componentCheck({
    id: 'cis-1.4.2', cis: '1.4.2', title: 'Scheduler listens on loopback only', severity: 'medium',
    component: 'kube-scheduler', judge: bindAddressLoopback('0.0.0.0'),
    remediation: inManifest('set --bind-address=127.0.0.1'),
    differsFromKubeBench: 'kube-bench passes when --bind-address is not set; the real default is 0.0.0.0 (all interfaces), so Vigil fails. Any loopback address (127.0.0.0/8, ::1) passes.',
  }),
];
