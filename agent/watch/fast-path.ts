// The fast path for a watched file change: re-stat the changed files in the previous snapshot and re-run only the
// checks that declare they read one of them (Check.reads, resolved against the snapshot). A full gather follows
// shortly after (content edits, new files, anything this misses), so the fast path only has to be right, not
// complete.
import type { Finding } from '../../proto/report.js';
import { covers, inputTargets } from '../facts/inputs.js';
import type { FileFact, FileRole, Snapshot } from '../facts/snapshot.js';
import { evaluate, type Check } from '../evaluate/check.js';
import type { HostAccess } from '../gather/host.js';

/**
 * The snapshot with the file facts of `paths` re-read: the files of every role, the CNI files, and the files of
 * certificates and keys (a new object; the old one is untouched).
 */
export function patchFileFacts(snapshot: Snapshot, host: HostAccess, paths: ReadonlySet<string>): { snapshot: Snapshot; patched: Set<string> } {
  const patched = new Set<string>();
  const restat = (f: FileFact): FileFact => {
    if (!paths.has(f.path)) return f;
    patched.add(f.path);
    return host.stat(f.path);
  };
  const files: Snapshot['files'] = {};
  for (const [role, facts] of Object.entries(snapshot.files) as Array<[FileRole, Snapshot['files'][FileRole]]>) {
    files[role] = facts?.map(restat);
  }
  const withFile = <T extends { path: string; file: FileFact }>(x: T): T => (paths.has(x.file.path) ? { ...x, file: restat(x.file) } : x);
  return {
    snapshot: {
      ...snapshot,
      files,
      cni: { ...snapshot.cni, files: snapshot.cni.files.map(restat) },
      certificates: snapshot.certificates.map(withFile),
      keys: snapshot.keys.map(withFile),
    },
    patched,
  };
}

/** The checks that declare they read one of the changed host paths on this node. */
export function checksReading(snapshot: Snapshot, checks: readonly Check[], paths: ReadonlySet<string>): Check[] {
  const changed = [...paths];
  return checks.filter((c) => c.reads.some((input) =>
    inputTargets(input, snapshot).some((target) => changed.some((p) => covers(target, p)))));
}

/**
 * Findings after re-running the checks that read a changed path; the other checks' findings are kept.
 * Undefined when no check reads any of the paths.
 */
export function reevaluate(previous: readonly Finding[], snapshot: Snapshot, checks: readonly Check[], paths: ReadonlySet<string>): Finding[] | undefined {
  const rerun = checksReading(snapshot, checks, paths);
  if (rerun.length === 0) return undefined;
  const ids = new Set(rerun.map((c) => c.id));
  return [...previous.filter((f) => !ids.has(f.checkId)), ...evaluate(snapshot, rerun)];
}
