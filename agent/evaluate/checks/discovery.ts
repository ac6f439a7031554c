// What component discovery refused to guess: a process named like a component that does not run as root (it is
// not judged, and none of the files it names are read), and a component more than one process claims to be (its
// settings are not judged: which of them serves the node is unknowable from here).
import { fact } from '../../facts/inputs.js';
import type { Check, Verdict } from '../check.js';

const impostor: Check = {
  id: 'vigil.component-impostor',
  cis: null,
  title: 'A process named like a Kubernetes component does not run as root',
  severity: 'high',
  component: 'node',
  remediation: 'Find out who started it (`ps -o user,ppid,args -p PID`, its parent, unit or pod) and stop it. Kubernetes '
    + 'components run as root; a process that only borrows a component\'s name can feed node tools false facts or '
    + 'make them read files for it.',
  reads: [fact('discovery')],
  evaluate: (s) => (s.ignoredProcesses ?? []).map((p): Verdict => ({
    status: 'fail',
    resource: { kind: 'component', component: p.component, pid: p.pid },
    evidence: {
      source: 'process', key: 'uid', value: p.uid ?? null, expected: '0 (root)',
      detail: `pid ${p.pid} (${p.argv0}) is named like ${p.component} but ${p.reason}: it is not judged as ${p.component} and no file it names is read`,
    },
    discriminator: String(p.pid),
  })),
};

const ambiguous: Check = {
  id: 'vigil.component-ambiguous',
  cis: null,
  title: 'More than one process claims to be the same Kubernetes component',
  severity: 'medium',
  component: 'node',
  remediation: 'Stop the process that should not run (a leftover, a second instance, a nested node). Until one '
    + 'remains, the component\'s settings are reported as errors rather than judged on a guess.',
  reads: [fact('discovery')],
  evaluate: (s) => Object.values(s.components).flatMap((c): Verdict[] => (c?.candidates ? [{
    status: 'error',
    resource: { kind: 'component', component: c.name },
    evidence: {
      source: 'discovery', value: c.candidates,
      detail: `${c.candidates.length} processes claim to be ${c.name} (pids ${c.candidates.join(', ')}): which one serves this node cannot be told, so none is judged`,
    },
  }] : [])),
};

export const discoveryChecks: Check[] = [impostor, ambiguous];
