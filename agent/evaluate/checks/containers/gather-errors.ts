// What could not be read about containers is reported, not swallowed: an unreadable spec, a runtime
// socket that did not answer, a pid that vanished.
import type { Check, Verdict } from '../../check.js';
import { containerResource } from './common.js';

export const containerGatherErrorCheck: Check = {
  id: 'container-gather-error', cis: null, severity: 'medium', component: 'container',
  title: 'A container fact could not be read',
  remediation: 'Check that the agent can read the runtime state dir and /proc (hostPID, mounts) and reach the CRI socket.',
  evaluate(s) {
    if (!s.containers) return [];
    const out: Verdict[] = s.containers.errors.map((e) => ({
      status: 'error',
      resource: { kind: 'file', path: e.path },
      evidence: { source: 'gather', path: e.path, detail: `${e.code}: ${e.message}` },
      title: `Could not read ${e.path} (${e.code})`,
      discriminator: `${e.code}:${e.message.slice(0, 80)}`,
    }));
    for (const c of s.containers.items) {
      if (c.type !== 'container') continue;
      for (const e of c.errors) {
        out.push({
          status: 'error',
          resource: containerResource(c),
          evidence: { source: 'gather', path: e.path, detail: `${e.code}: ${e.message}` },
          title: c.declared ? `Could not read ${e.path} (${e.code})` : `Container not judged: its spec could not be read (${e.code})`,
          discriminator: `${e.code}:${e.path}`,
        });
      }
    }
    return out;
  },
};
