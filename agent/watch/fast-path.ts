// The fast path for a watched file change: re-stat only the changed files in the previous snapshot and
// re-run only the checks whose findings named them. A full gather follows shortly after (content edits,
// new files, anything this misses), so the fast path only has to be right, not complete.
import type { Finding } from '../../proto/report.js';
import { evaluate, type Check } from '../evaluate/check.js';
import type { HostAccess } from '../gather/host.js';
import type { FileRole, Snapshot } from '../facts/snapshot.js';

/** The snapshot with the file facts of `paths` re-read (a new object; the old one is untouched). */
export function patchFileFacts(snapshot: Snapshot, host: HostAccess, paths: ReadonlySet<string>): { snapshot: Snapshot; patched: Set<string> } {
  const patched = new Set<string>();
  const files: Snapshot['files'] = {};
  for (const [role, facts] of Object.entries(snapshot.files) as Array<[FileRole, Snapshot['files'][FileRole]]>) {
    files[role] = facts?.map((f) => {
      if (!paths.has(f.path)) return f;
      patched.add(f.path);
      return host.stat(f.path);
    });
  }
  return { snapshot: { ...snapshot, files }, patched };
}

function namedPaths(f: Finding): string[] {
  const out: string[] = [];
  if ('path' in f.resource && typeof f.resource.path === 'string') out.push(f.resource.path);
  if (typeof f.evidence.path === 'string') out.push(f.evidence.path);
  return out;
}

/**
 * Findings after re-running the checks whose previous findings name a changed path; the other checks'
 * findings are kept. Undefined when no check named any of the paths.
 */
export function reevaluate(previous: readonly Finding[], snapshot: Snapshot, checks: readonly Check[], paths: ReadonlySet<string>): Finding[] | undefined {
  const affected = new Set<string>();
  for (const f of previous) if (namedPaths(f).some((p) => paths.has(p))) affected.add(f.checkId);
  const rerun = checks.filter((c) => affected.has(c.id));
  if (rerun.length === 0) return undefined;
  const kept = previous.filter((f) => !affected.has(f.checkId) || !rerun.some((c) => c.id === f.checkId));
  return [...kept, ...evaluate(snapshot, rerun)];
}
