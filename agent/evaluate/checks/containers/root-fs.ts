// Beyond PSS: a writable root filesystem lets an intruder drop tools and persist in the container.
import type { Check } from '../../check.js';
import { containerCheck, ev, fail, pass } from './common.js';

export const readOnlyRootFsCheck: Check = containerCheck({
  id: 'container-read-only-root-fs', cis: null, severity: 'low',
  title: 'Container root filesystem is read-only',
  remediation: 'Set securityContext.readOnlyRootFilesystem: true; mount an emptyDir where the app must write.',
  judge(d, c) {
    const e = ev(c, 'securityContext.readOnlyRootFilesystem', d.readOnlyRootFilesystem === true, 'true');
    return d.readOnlyRootFilesystem === true ? pass(e) : fail(e);
  },
});
