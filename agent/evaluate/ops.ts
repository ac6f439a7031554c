// The operations a benchmark row can name instead of a judge: file mode and owner, and comparisons of effective
// settings. An op is data (it can be printed, compared with kube-bench's tests, checked for coverage); `applyOp`
// gives it meaning. A comparison no op says is a named judge (judges/), which may still apply ops.
import type { Evidence, Resource, Status } from '../../proto/report.js';
import { hostOf, isLoopbackHost } from '../../common/address.js';
import { parseGoBool } from '../../common/bool.js';
import type { ComponentFact, FileFact, Setting } from '../facts/snapshot.js';
import { asList, isNonEmptyString, numberOf } from '../facts/values.js';
import type { Judgement, Verdict } from './check.js';
import { allSetEvidence, settingEvidence } from './evidence.js';

export type Owner = { uid: 0; gid: 0 } | { user: string; group: string };
export const ROOT: Owner = { uid: 0, gid: 0 };

/** Ops on the file facts of one role: one verdict per file. */
export type FileOp =
  /** kube-bench `bitmask`: no permission bit beyond `mask` (setuid, setgid and sticky included). */
  | { op: 'mode-at-most'; mask: number }
  /** kube-bench `stat -c %U:%G` eq: root by ids, other accounts by the names the host resolves. */
  | { op: 'owner-is'; owner: Owner };

/**
 * Ops on effective settings. `failDetail` is added to the evidence of a failing verdict. Values are read as the
 * component reads them: Go booleans and integers from text, typed values from config files.
 */
export type SettingOp = { failDetail?: string } & (
  /** kube-bench `eq` (and `noteq` by its complement in the benchmark's wording): a Go boolean, a number or a text. */
  | { op: 'equals'; value: boolean | number | string }
  /** kube-bench `eq` with several acceptable values. */
  | { op: 'one-of'; values: readonly string[] }
  /** kube-bench `gte`: an integer at least `min`. */
  | { op: 'at-least'; min: number }
  /** A number above `min` (`> 0`: a limit that is really a limit). */
  | { op: 'above'; min: number }
  /** kube-bench `set` (a non-empty value) and its negation. */
  | { op: 'set' }
  | { op: 'not-set' }
  /** Every declared setting set (a certificate and its key). */
  | { op: 'all-set'; expected?: string }
  /** kube-bench `has` / `nothave` on a comma list. */
  | { op: 'contains'; item: string }
  | { op: 'lacks'; item: string }
  /** kube-bench `valid_elements`: set, and every element in `allowed`. */
  | { op: 'only-from'; allowed: readonly string[]; expected: string; unsetDetail: string; listName: string }
  /** An address whose host is loopback (127.0.0.0/8, ::1, localhost). */
  | { op: 'loopback'; expected: string }
  /** A manual review: always `warn`, with the value a reviewer needs. */
  | { op: 'review'; expected: string; detail: string }
);

type Op = FileOp | SettingOp;

export const isFileOp = (op: Op): op is FileOp => op.op === 'mode-at-most' || op.op === 'owner-is';

/** Octal text of permission bits as stat shows them: 0644, 4600. */
export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** The verdict of a file op on one existing file. */
export function applyFileOp(op: FileOp, f: FileFact): Verdict {
  const resource: Resource = { kind: 'file', path: f.path };
  if (op.op === 'mode-at-most') {
    const expected = `${octal(op.mask)} or stricter`;
    if (f.mode === undefined) {
      return { status: 'error', resource, evidence: { source: 'file', path: f.path, expected, detail: 'file mode not known' } };
    }
    const extra = f.mode & 0o7777 & ~op.mask;
    return {
      status: extra === 0 ? 'pass' : 'fail',
      resource,
      evidence: {
        source: 'file', path: f.path, value: octal(f.mode), expected,
        ...(extra !== 0 ? { detail: `bits ${octal(extra)} are set beyond ${octal(op.mask)}` } : {}),
      },
    };
  }
  const expected = 'uid' in op.owner ? 'root:root' : `${op.owner.user}:${op.owner.group}`;
  const user = f.user ?? (f.uid !== undefined ? String(f.uid) : undefined);
  const group = f.group ?? (f.gid !== undefined ? String(f.gid) : undefined);
  if (user === undefined || group === undefined) {
    return { status: 'error', resource, evidence: { source: 'file', path: f.path, expected, detail: 'file owner not known' } };
  }
  const ok = 'uid' in op.owner ? f.uid === op.owner.uid && f.gid === op.owner.gid : f.user === op.owner.user && f.group === op.owner.group;
  return {
    status: ok ? 'pass' : 'fail',
    resource,
    evidence: {
      source: 'file', path: f.path, value: `${user}:${group}`, expected,
      ...(f.uid !== undefined && f.gid !== undefined ? { uid: f.uid, gid: f.gid } : {}),
    },
  };
}

interface Outcome {
  ok: boolean;
  expected: string;
  /** Why the value could not be read (`"x" is not a boolean`), or what it means. */
  detail?: string;
  /** The status when not ok (a review warns). */
  status?: Status;
}

const quoted = (v: unknown): string => `"${String(v)}"`;

function outcome(op: Exclude<SettingOp, { op: 'all-set' }>, setting: Setting): Outcome {
  const v = setting.value;
  switch (op.op) {
    case 'equals': {
      const want = op.value;
      if (typeof want === 'boolean') {
        const b = parseGoBool(v);
        return { ok: b === want, expected: String(want), detail: v !== undefined && b === undefined ? `${quoted(v)} is not a boolean` : undefined };
      }
      if (typeof want === 'number') {
        const n = numberOf(v);
        return { ok: n === want, expected: String(want), detail: v !== undefined && n === undefined ? `${quoted(v)} is not a number` : undefined };
      }
      return { ok: v !== undefined && String(v).trim() === want, expected: want };
    }
    case 'one-of':
      return { ok: v !== undefined && op.values.includes(String(v).trim()), expected: `one of ${op.values.join(', ')}` };
    case 'at-least': {
      const n = numberOf(v);
      return { ok: n !== undefined && n >= op.min, expected: `>= ${op.min}`, detail: v !== undefined && n === undefined ? `${quoted(v)} is not an integer` : undefined };
    }
    case 'above': {
      const n = numberOf(v);
      return { ok: n !== undefined && n > op.min, expected: `> ${op.min}` };
    }
    case 'set':
      return { ok: isNonEmptyString(v), expected: 'set' };
    case 'not-set':
      return { ok: !isNonEmptyString(v), expected: 'not set' };
    case 'contains':
      return { ok: (asList(v) ?? []).includes(op.item), expected: `includes ${op.item}` };
    case 'lacks':
      return { ok: !(asList(v) ?? []).includes(op.item), expected: `without ${op.item}` };
    case 'only-from': {
      const list = asList(v);
      if (!list || list.length === 0) return { ok: false, expected: op.expected, detail: op.unsetDetail };
      const rejected = list.filter((x) => !op.allowed.includes(x));
      return { ok: rejected.length === 0, expected: op.expected, detail: rejected.length > 0 ? `not in ${op.listName}: ${rejected.join(', ')}` : undefined };
    }
    case 'loopback':
      return { ok: v !== undefined && isLoopbackHost(hostOf(String(v))), expected: op.expected };
    case 'review':
      return { ok: false, status: 'warn', expected: op.expected, detail: op.detail };
  }
}

/** A setting op on the settings it reads (one, or several for `all-set`) of component `c` (undefined: the kubelet). */
export function applyOp(op: SettingOp, c: ComponentFact | undefined, settings: readonly Setting[]): Judgement {
  if (op.op === 'all-set') {
    if (!c) throw new Error('all-set needs a component');
    const ok = settings.every((s) => isNonEmptyString(s.value));
    const evidence: Evidence = allSetEvidence(c, settings, op.expected ?? 'all set');
    return { status: ok ? 'pass' : 'fail', evidence };
  }
  if (settings.length !== 1) throw new Error(`op ${op.op} reads exactly one setting, got ${settings.length}`);
  const o = outcome(op, settings[0]);
  const status: Status = o.ok ? 'pass' : o.status ?? 'fail';
  const detail = [o.detail, status === 'fail' ? op.failDetail : undefined].filter(Boolean).join('; ') || undefined;
  return { status, evidence: settingEvidence(c, settings[0], o.expected, detail ? { detail } : {}) };
}

/** The `expected` text of an op's evidence (it does not depend on the value judged). */
export function expectedOf(op: SettingOp): string {
  if (op.op === 'all-set') return op.expected ?? 'all set';
  return outcome(op, { key: '', value: undefined, source: 'unset' }).expected;
}

// Constructors, so that a benchmark row reads `op: modeAtMost(0o600)` or `op: equals(false)`.
type Extra = { failDetail?: string };
export const modeAtMost = (mask: number): FileOp => ({ op: 'mode-at-most', mask });
export const ownerIs = (owner: Owner): FileOp => ({ op: 'owner-is', owner });
export const equals = (value: boolean | number | string, extra: Extra = {}): SettingOp => ({ op: 'equals', value, ...extra });
export const oneOf = (values: readonly string[], extra: Extra = {}): SettingOp => ({ op: 'one-of', values, ...extra });
export const atLeast = (min: number, extra: Extra = {}): SettingOp => ({ op: 'at-least', min, ...extra });
export const above = (min: number, extra: Extra = {}): SettingOp => ({ op: 'above', min, ...extra });
export const isSet = (extra: Extra = {}): SettingOp => ({ op: 'set', ...extra });
export const notSet = (extra: Extra = {}): SettingOp => ({ op: 'not-set', ...extra });
export const allSet = (expected?: string): SettingOp => (expected ? { op: 'all-set', expected } : { op: 'all-set' });
export const contains = (item: string, extra: Extra = {}): SettingOp => ({ op: 'contains', item, ...extra });
export const lacks = (item: string, extra: Extra = {}): SettingOp => ({ op: 'lacks', item, ...extra });
export const onlyFrom = (allowed: readonly string[], texts: { expected: string; unsetDetail: string; listName: string }): SettingOp =>
  ({ op: 'only-from', allowed, ...texts });
export const loopback = (expected: string): SettingOp => ({ op: 'loopback', expected });
export const review = (expected: string, detail: string): SettingOp => ({ op: 'review', expected, detail });
