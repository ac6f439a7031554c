// Shared building blocks of the CIS checks: flag reading with Go pflag semantics, verdict builders,
// and a factory for checks that judge one component.
import type { Evidence, Resource, Severity, Status } from '../../../../proto/report.js';
import type { Check, Verdict } from '../../check.js';
import type { ComponentFact, ComponentName, Snapshot } from '../../../facts/snapshot.js';
import { parseGoBool } from '../../../../common/bool.js';
import { hostOf, isLoopbackHost } from '../../../../common/address.js';
import { lastFlag as lastOf, listFlag as listOf } from '../../../gather/flags.js';

/** What a judge decides about one resource; the factory turns it into a Verdict. */
export interface Judgement {
  status: Status;
  evidence: Evidence;
  severity?: Severity;
}

/** The data part of a check: everything but `evaluate`. */
export type CheckMeta = Omit<Check, 'evaluate' | 'component'>;

export function componentResource(c: ComponentFact): Resource {
  const resource: Resource = { kind: 'component', component: c.name, source: c.source };
  if (c.pid !== undefined) resource.pid = c.pid;
  return resource;
}

export function notRunning(component: ComponentName): Verdict {
  return {
    status: 'skip',
    resource: { kind: 'component', component },
    evidence: { source: 'discovery', detail: `${component} does not run on this node` },
  };
}

/**
 * A check over one component's facts. `component` is the finding's component; `runsOn` the
 * component whose presence it needs (defaults to `component`), for `cluster` checks read from a component.
 */
export function componentCheck(spec: CheckMeta & {
  component: ComponentName | 'cluster';
  runsOn?: ComponentName;
  judge: (c: ComponentFact, s: Snapshot) => Judgement;
}): Check {
  const { judge, runsOn, ...meta } = spec;
  const needed = runsOn ?? (spec.component as ComponentName);
  return {
    ...meta,
    evaluate(s) {
      const c = s.components[needed];
      if (!c) return [notRunning(needed)];
      const j = judge(c, s);
      const verdict: Verdict = { status: j.status, resource: componentResource(c), evidence: j.evidence };
      if (j.severity) verdict.severity = j.severity;
      return [verdict];
    },
  };
}

/** Value of a scalar flag: pflag keeps the last one given. */
export const lastFlag = (c: ComponentFact, name: string): string | undefined => lastOf(c.flags, name);

/** Elements of a comma-list flag (pflag StringSlice): repeats append. Undefined when the flag is absent. */
export const listFlag = (c: ComponentFact, name: string): string[] | undefined => listOf(c.flags, name);

/** `--feature-gates` as a map: repeats merge, a later key wins; values are Go booleans. */
export function featureGates(c: ComponentFact): Record<string, string> {
  const gates: Record<string, string> = {};
  for (const entry of listFlag(c, 'feature-gates') ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    gates[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return gates;
}

/** Integer text as Go's strconv.Atoi accepts it; undefined otherwise. */
export function parseInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string' || !/^[+-]?\d+$/.test(value.trim())) return undefined;
  return Number.parseInt(value.trim(), 10);
}

/** Where a component's flags were read, for evidence. */
export function flagOrigin(c: ComponentFact): string {
  switch (c.source) {
    case 'process': return `${c.name} command line${c.pid !== undefined ? ` (pid ${c.pid})` : ''}`;
    case 'manifest': return `${c.name} static pod manifest${c.path ? ` ${c.path}` : ''}`;
    case 'passthrough': return `${c.distribution ?? 'distribution'} --${c.name}-arg values`;
  }
}

/** Evidence for a flag: `source` is `flag` when given, `default` when not (value = the component's default, if any). */
export function flagEvidence(
  c: ComponentFact,
  flag: string,
  expected: string,
  opts: { value?: unknown; defaultValue?: string; detail?: string } = {},
): Evidence {
  const given = c.flags[flag] !== undefined && c.flags[flag].length > 0;
  const value = 'value' in opts ? opts.value : given ? lastFlag(c, flag) : opts.defaultValue;
  const evidence: Evidence = {
    source: given ? 'flag' : 'default',
    key: `--${flag}`,
    value,
    expected,
    origin: c.source,
  };
  if (c.path) evidence.path = c.path;
  const notes = [given ? `from the ${flagOrigin(c)}` : `--${flag} is not set on the ${flagOrigin(c)}`];
  if (!given && opts.defaultValue !== undefined) notes.push(`${c.name} default: ${opts.defaultValue}`);
  if (opts.detail) notes.push(opts.detail);
  evidence.detail = notes.join('; ');
  return evidence;
}

export function isSet(c: ComponentFact, flag: string): boolean {
  const v = lastFlag(c, flag);
  return v !== undefined && v.trim() !== '';
}

// Judges for the flag patterns of the benchmark. Each returns a judge for `componentCheck`.

/** Every flag set to a non-empty value. */
export function flagsSet(...flags: string[]) {
  return (c: ComponentFact): Judgement => {
    const missing = flags.filter((f) => !isSet(c, f));
    const expected = flags.length > 1 ? 'all set' : 'set';
    if (flags.length === 1) {
      return { status: missing.length === 0 ? 'pass' : 'fail', evidence: flagEvidence(c, flags[0], expected) };
    }
    const evidence: Evidence = {
      source: missing.length === flags.length ? 'default' : 'flag',
      key: flags.map((f) => `--${f}`).join(', '),
      value: Object.fromEntries(flags.map((f) => [`--${f}`, lastFlag(c, f) ?? null])),
      expected,
      origin: c.source,
      detail: `read from the ${flagOrigin(c)}${missing.length > 0 ? `; not set: ${missing.map((f) => `--${f}`).join(', ')}` : ''}`,
    };
    if (c.path) evidence.path = c.path;
    return { status: missing.length === 0 ? 'pass' : 'fail', evidence };
  };
}

export function flagNotSet(flag: string) {
  return (c: ComponentFact): Judgement => ({
    status: isSet(c, flag) ? 'fail' : 'pass',
    evidence: flagEvidence(c, flag, 'not set'),
  });
}

/** A boolean flag whose effective value (flag, else the component's default) must equal `expected`. */
export function flagBool(flag: string, expected: boolean, defaultValue: boolean) {
  return (c: ComponentFact): Judgement => {
    const raw = lastFlag(c, flag);
    const value = raw === undefined ? defaultValue : parseGoBool(raw);
    const evidence = flagEvidence(c, flag, String(expected), {
      defaultValue: String(defaultValue),
      detail: raw !== undefined && value === undefined ? `"${raw}" is not a boolean` : undefined,
    });
    return { status: value === expected ? 'pass' : 'fail', evidence };
  };
}

/** An integer flag that must be at least `min`; unset means the component's default. */
export function flagIntAtLeast(flag: string, min: number, defaultValue: number) {
  return (c: ComponentFact): Judgement => {
    const raw = lastFlag(c, flag);
    const value = raw === undefined ? defaultValue : parseInteger(raw);
    const evidence = flagEvidence(c, flag, `>= ${min}`, {
      defaultValue: String(defaultValue),
      detail: raw !== undefined && value === undefined ? `"${raw}" is not an integer` : undefined,
    });
    return { status: value !== undefined && value >= min ? 'pass' : 'fail', evidence };
  };
}

/** `--bind-address` of a control-plane component: effective value must be loopback (the default is 0.0.0.0). */
export function bindAddressLoopback(defaultValue: string) {
  return (c: ComponentFact): Judgement => {
    const value = lastFlag(c, 'bind-address') ?? defaultValue;
    return {
      status: isLoopbackHost(hostOf(value)) ? 'pass' : 'fail',
      evidence: flagEvidence(c, 'bind-address', '127.0.0.1 (loopback)', { defaultValue }),
    };
  };
}

/** Every configured element must be in the allowed list; unset fails (the Go defaults include weak suites). */
export function validElements(values: string[] | undefined, allowed: readonly string[]): { ok: boolean; rejected: string[] } {
  if (!values || values.length === 0) return { ok: false, rejected: [] };
  const rejected = values.filter((v) => !allowed.includes(v));
  return { ok: rejected.length === 0, rejected };
}
