// What could not be read about containers is reported, not swallowed: an unreadable spec, a runtime
// socket that did not answer, a pid that vanished.
import { fact } from '../../../facts/inputs.js';
import { findingId, type Check, type Verdict } from '../../check.js';
import { containerResource } from './common.js';

/** Counts, sizes and pids vary from scan to scan; the finding id must not. */
const stable = (text: string): string => text.replace(/\d+/g, '#');
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

export const containerGatherErrorCheck: Check = {
  id: 'container-gather-error', cis: null, severity: 'medium', component: 'container',
  title: 'A container fact could not be read',
  remediation: 'Check that the agent can read the runtime state dir and /proc (hostPID, mounts) and reach the CRI socket.',
  reads: [fact('containers')],
  evaluate(s) {
    if (!s.containers) return [];
    const out: Verdict[] = s.containers.errors.map((e) => ({
      status: 'error',
      resource: { kind: 'file', path: e.path },
      evidence: { source: 'gather', path: e.path, detail: `${e.code}: ${e.message}` },
      title: `Could not read ${e.path} (${e.code})`,
      discriminator: `${e.code}:${stable(e.message).slice(0, 80)}`,
    }));
    for (const c of s.containers.items) {
      if (c.type !== 'container') continue;
      for (const e of c.errors) {
        out.push({
          status: 'error',
          resource: containerResource(c),
          evidence: { source: 'gather', path: e.path, detail: `${e.code}: ${e.message}` },
          title: c.declared ? `Could not read ${e.path} (${e.code})` : `Container not judged: its spec could not be read (${e.code})`,
          // The resource names the container; the file's name tells its errors apart (its path holds pid and id).
          discriminator: `${e.code}:${stable(basename(e.path))}`,
        });
      }
    }
    return oneVerdictPerId(out);
  },
};

/** Errors that land on the same finding id (the same CRI failure for several containers, two bad lines of one file) are one finding. */
function oneVerdictPerId(verdicts: Verdict[]): Verdict[] {
  const byId = new Map<string, Verdict>();
  for (const v of verdicts) {
    const id = findingId('container-gather-error', v.resource, v.discriminator);
    const seen = byId.get(id);
    if (!seen) { byId.set(id, v); continue; }
    const detail = `${seen.evidence.detail ?? ''}; ${v.evidence.detail ?? ''}`;
    seen.evidence = { ...seen.evidence, detail: detail.length > 2000 ? `${detail.slice(0, 2000)}…` : detail };
  }
  return [...byId.values()];
}
