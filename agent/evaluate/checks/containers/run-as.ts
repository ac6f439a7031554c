// PSS runAsNonRoot (CIS 5.2.7) and runAsUser, and, beyond PSS, a process that really runs as uid 0.
// runAsNonRoot never reaches the runtime (the kubelet enforces it before starting the container), so on
// a node it is judged on the uid the process runs with.
import type { Check } from '../../check.js';
import type { ContainerFact, DeclaredFact } from '../../../facts/containers.js';
import { containerCheck, ev, fail, isLiteral, isManifest, pass } from './common.js';

/** The uid the process runs as: the kernel's when alive, else the spec's. */
const runningUid = (d: DeclaredFact, c: ContainerFact): { uid?: number; source: string } =>
  c.kernel?.uid !== undefined ? { uid: c.kernel.uid, source: 'kernel' } : { uid: d.uid, source: 'spec' };

export const runAsNonRootCheck: Check = containerCheck({
  id: 'container-run-as-non-root', cis: '5.2.7', pss: 'runAsNonRoot', level: 'restricted', severity: 'medium',
  title: 'Container must run as a non-root user (runAsNonRoot)',
  remediation: 'Set securityContext.runAsNonRoot: true and a non-zero runAsUser (or a non-root USER in the image).',
  judge(d, c) {
    if (isManifest(d)) {
      const e = ev(c, 'securityContext.runAsNonRoot', d.runAsNonRoot ?? null, 'true (pod or container level)');
      return d.runAsNonRoot === true ? pass(e) : fail(e);
    }
    const { uid, source } = runningUid(d, c);
    const e = ev(c, 'uid', uid ?? null, 'non-zero',
      `runAsNonRoot is not visible on the node; judged on the ${source} uid`);
    if (uid === undefined) return { status: 'skip', evidence: e };
    return uid === 0 ? fail(e) : pass(e);
  },
});

export const runAsUserCheck: Check = containerCheck({
  id: 'container-run-as-user', cis: null, pss: 'runAsUser', level: 'restricted', severity: 'medium',
  title: 'Container does not set runAsUser: 0',
  remediation: 'Remove runAsUser: 0; set a non-zero uid.',
  judge(d, c) {
    if (isLiteral(d)) {
      const e = ev(c, 'securityContext.runAsUser', d.runAsUser ?? null, 'unset or non-zero');
      return d.runAsUser === 0 ? fail(e) : pass(e);
    }
    const e = ev(c, 'process.user.uid', d.uid ?? null, 'non-zero',
      'OCI spec only: uid 0 may come from runAsUser: 0 or from the image');
    return d.uid === 0 ? { status: 'warn', evidence: e } : pass(e);
  },
});

export const rootUidCheck: Check = containerCheck({
  id: 'container-root-uid', cis: null, severity: 'medium',
  title: 'Container process does not run as uid 0',
  remediation: 'Run as a non-root user: set runAsUser to a non-zero uid or build the image with a non-root USER.',
  judge(d, c) {
    if (isManifest(d)) {
      const e = ev(c, 'securityContext.runAsUser', d.runAsUser ?? null, 'non-zero');
      if (d.runAsUser === 0) return fail(e);
      if (d.runAsUser === undefined && d.runAsNonRoot !== true) {
        return { status: 'warn', evidence: { ...e, detail: 'neither runAsUser nor runAsNonRoot: the image decides' } };
      }
      return pass(e);
    }
    const { uid, source } = runningUid(d, c);
    const e = ev(c, `${source} uid`, uid ?? null, 'non-zero');
    if (uid === undefined) return { status: 'skip', evidence: e };
    return uid === 0 ? fail(e) : pass(e);
  },
});
