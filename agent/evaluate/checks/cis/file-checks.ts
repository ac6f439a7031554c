// File permission and ownership checks: one verdict per file that plays a role.
import type { Resource } from '../../../../proto/report.js';
import type { Check, Verdict } from '../../check.js';
import type { ComponentName, FileFact, FileRole, Snapshot } from '../../../facts/snapshot.js';
import { notRunning, type CheckMeta } from './helpers.js';

interface FileCheckSpec extends CheckMeta {
  component: ComponentName | 'cluster';
  /** The component that must run on the node for the check to apply; none for cluster files. */
  runsOn?: ComponentName;
  /** Role(s) in `snapshot.files`, or a function for files kept elsewhere (CNI). */
  files: FileRole | ((s: Snapshot) => FileFact[]);
  /** Detail of the skip when no such file exists, e.g. "no kube-proxy kubeconfig found". */
  missing: string;
}

/** Octal text of permission bits as stat shows them: 0644, 4600. */
export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function filesOf(spec: FileCheckSpec, s: Snapshot): FileFact[] {
  return typeof spec.files === 'function' ? spec.files(s) : s.files[spec.files] ?? [];
}

function fileCheck(spec: FileCheckSpec, judge: (f: FileFact) => Verdict): Check {
  const { files: _files, missing, runsOn, ...meta } = spec;
  return {
    ...meta,
    evaluate(s) {
      if (runsOn && !s.components[runsOn]) return [notRunning(runsOn)];
      const listed = filesOf(spec, s);
      const verdicts: Verdict[] = [];
      for (const f of listed) {
        const resource: Resource = { kind: 'file', path: f.path };
        if (f.error) {
          verdicts.push({
            status: 'error',
            resource,
            evidence: { source: 'file', path: f.path, detail: `${f.error.code}: ${f.error.message}` },
          });
        } else if (f.exists) {
          verdicts.push(judge(f));
        }
      }
      if (verdicts.length > 0) return verdicts;
      const skipResource: Resource = listed.length > 0
        ? { kind: 'file', path: listed[0].path }
        : spec.component === 'cluster' ? { kind: 'node' } : { kind: 'component', component: spec.component };
      const looked = listed.map((f) => f.path).join(', ');
      return [{
        status: 'skip',
        resource: skipResource,
        evidence: { source: 'file', detail: looked ? `${missing} (looked for ${looked})` : missing },
      }];
    },
  };
}

/** "mode N or tighter": fails when any bit outside `mask` is set, setuid/setgid/sticky included. */
export function filePermissionCheck(spec: FileCheckSpec & { mask: number }): Check {
  const expected = `${octal(spec.mask)} or stricter`;
  return fileCheck(spec, (f) => {
    const resource: Resource = { kind: 'file', path: f.path };
    if (f.mode === undefined) {
      return { status: 'error', resource, evidence: { source: 'file', path: f.path, expected, detail: 'file mode not known' } };
    }
    const extra = f.mode & 0o7777 & ~spec.mask;
    return {
      status: extra === 0 ? 'pass' : 'fail',
      resource,
      evidence: {
        source: 'file',
        path: f.path,
        value: octal(f.mode),
        expected,
        ...(extra !== 0 ? { detail: `bits ${octal(extra)} are set beyond ${octal(spec.mask)}` } : {}),
      },
    };
  });
}

export type Owner = { uid: 0; gid: 0 } | { user: string; group: string };

function ownerMatches(f: FileFact, owner: Owner): boolean {
  if ('uid' in owner) return f.uid === owner.uid && f.gid === owner.gid;
  return f.user === owner.user && f.group === owner.group;
}

/** Ownership: root is judged by ids (0:0), other accounts by the names the host resolves. */
export function fileOwnershipCheck(spec: FileCheckSpec & { owner: Owner }): Check {
  const expected = 'uid' in spec.owner ? 'root:root' : `${spec.owner.user}:${spec.owner.group}`;
  return fileCheck(spec, (f) => {
    const resource: Resource = { kind: 'file', path: f.path };
    const user = f.user ?? (f.uid !== undefined ? String(f.uid) : undefined);
    const group = f.group ?? (f.gid !== undefined ? String(f.gid) : undefined);
    if (user === undefined || group === undefined) {
      return { status: 'error', resource, evidence: { source: 'file', path: f.path, expected, detail: 'file owner not known' } };
    }
    const ok = ownerMatches(f, spec.owner);
    return {
      status: ok ? 'pass' : 'fail',
      resource,
      evidence: {
        source: 'file',
        path: f.path,
        value: `${user}:${group}`,
        expected,
        ...(f.uid !== undefined && f.gid !== undefined ? { uid: f.uid, gid: f.gid } : {}),
      },
    };
  });
}

export const ROOT: Owner = { uid: 0, gid: 0 };
