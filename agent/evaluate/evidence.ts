// Evidence for effective settings, in the shape each kind of component has always reported it: a command-line flag
// (control plane, kube-proxy), a flag or its ETCD_* variable (etcd), or a kubelet setting with the file it came from.
import type { Evidence, Resource } from '../../proto/report.js';
import type { ComponentFact, ComponentName, Setting } from '../facts/snapshot.js';
import { isNonEmptyString } from '../facts/values.js';
import type { Verdict } from './check.js';

export interface EvidenceOptions {
  /** Replaces the setting's value (e.g. the effective list an admission judge computed). */
  value?: unknown;
  /** Appended after where the value came from. */
  detail?: string;
  /** False when a file Vigil does not read decides instead of the component's default: the default is then not shown. */
  defaultApplies?: boolean;
}

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

/** Where a component's command line was read, for evidence. */
function flagOrigin(c: ComponentFact): string {
  switch (c.source) {
    case 'process': return `${c.name} command line${c.pid !== undefined ? ` (pid ${c.pid})` : ''}`;
    case 'manifest': return `${c.name} static pod manifest${c.path ? ` ${c.path}` : ''}`;
    case 'passthrough': return `${c.distribution ?? 'distribution'} --${c.name}-arg values`;
  }
}

/** Evidence for one setting of `c` (for the kubelet, `c` may be undefined). */
export function settingEvidence(c: ComponentFact | undefined, setting: Setting, expected: string, opts: EvidenceOptions = {}): Evidence {
  if (!c || c.name === 'kubelet') return kubeletEvidence(setting, expected, opts);
  return c.name === 'etcd' ? etcdEvidence(c, setting, expected, opts) : flagEvidence(c, setting, expected, opts);
}

/** Evidence for settings that must all be set (a certificate and its key). */
export function allSetEvidence(c: ComponentFact, settings: readonly Setting[], expected: string): Evidence {
  return c.name === 'etcd' ? etcdAllSetEvidence(c, settings, expected) : flagsAllSetEvidence(c, settings, expected);
}

const flagKey = (s: Setting): string => `--${s.flag ?? s.key}`;

/** `source` is `flag` when given, `default` otherwise; the value is the flag's, else the component's default. */
function flagEvidence(c: ComponentFact, setting: Setting, expected: string, opts: EvidenceOptions): Evidence {
  const given = setting.source === 'flag';
  const defaultValue = !given && setting.source === 'default' && opts.defaultApplies !== false ? setting.value : undefined;
  const evidence: Evidence = {
    source: given ? 'flag' : 'default',
    key: flagKey(setting),
    value: 'value' in opts ? opts.value : given ? setting.value : defaultValue,
    expected,
    origin: c.source,
  };
  if (c.path) evidence.path = c.path;
  const notes = [given ? `from the ${flagOrigin(c)}` : `${flagKey(setting)} is not set on the ${flagOrigin(c)}`];
  if (defaultValue !== undefined) notes.push(`${c.name} default: ${String(defaultValue)}`);
  if (opts.detail) notes.push(opts.detail);
  evidence.detail = notes.join('; ');
  return evidence;
}

function flagsAllSetEvidence(c: ComponentFact, settings: readonly Setting[], expected: string): Evidence {
  const missing = settings.filter((s) => !isNonEmptyString(s.value));
  const evidence: Evidence = {
    source: missing.length === settings.length ? 'default' : 'flag',
    key: settings.map(flagKey).join(', '),
    value: Object.fromEntries(settings.map((s) => [flagKey(s), s.source === 'flag' ? s.value : null])),
    expected,
    origin: c.source,
    detail: `read from the ${flagOrigin(c)}${missing.length > 0 ? `; not set: ${missing.map(flagKey).join(', ')}` : ''}`,
  };
  if (c.path) evidence.path = c.path;
  return evidence;
}

// etcd: the key names the variable when the value came from the environment; a default is described, not shown.
const etcdKey = (s: Setting): string => (s.source === 'env' && s.env ? s.env : flagKey(s));
const etcdGiven = (s: Setting): unknown => (s.source === 'flag' || s.source === 'env' ? s.value : undefined);
const etcdSource = (s: Setting): string => (s.source === 'unset' ? 'default' : s.source);

function etcdEvidence(c: ComponentFact, setting: Setting, expected: string, opts: EvidenceOptions): Evidence {
  const notes = [
    setting.source === 'flag' ? `from the ${flagOrigin(c)}`
      : setting.source === 'env' ? `from the environment of ${c.name}${c.pid !== undefined ? ` (pid ${c.pid})` : ''}`
        : `neither ${flagKey(setting)} nor ${setting.env} is set`,
  ];
  if (setting.source === 'default' && opts.defaultApplies !== false) notes.push(`etcd default: ${String(setting.value)}`);
  if (opts.detail) notes.push(opts.detail);
  const evidence: Evidence = {
    source: etcdSource(setting),
    key: etcdKey(setting),
    value: 'value' in opts ? opts.value : etcdGiven(setting),
    expected,
    origin: c.source,
  };
  if (c.path) evidence.path = c.path;
  evidence.detail = notes.join('; ');
  return evidence;
}

function etcdAllSetEvidence(c: ComponentFact, settings: readonly Setting[], expected: string): Evidence {
  const missing = settings.filter((s) => !isNonEmptyString(etcdGiven(s)));
  const decisive = settings.find((s) => etcdGiven(s)) ?? settings[settings.length - 1];
  const evidence: Evidence = {
    source: etcdSource(decisive),
    key: settings.map(etcdKey).join(', '),
    value: Object.fromEntries(settings.map((s) => [etcdKey(s), etcdGiven(s) ?? null])),
    expected,
    origin: c.source,
  };
  if (c.path) evidence.path = c.path;
  if (missing.length > 0) evidence.detail = `not set: ${missing.map((s) => `${flagKey(s)} (${s.env})`).join(', ')}`;
  return evidence;
}

/** The kubelet: source, key and path of the effective value, the flag that sets it, and its note. */
function kubeletEvidence(setting: Setting, expected: string, opts: EvidenceOptions): Evidence {
  const evidence: Evidence = { source: setting.source, key: setting.key, value: 'value' in opts ? opts.value : setting.value, expected };
  if (setting.path) evidence.path = setting.path;
  if (setting.flag) evidence.flag = `--${setting.flag}`;
  const notes = [opts.detail, setting.note].filter((n): n is string => !!n);
  if (notes.length > 0) evidence.detail = notes.join('; ');
  return evidence;
}

/**
 * Evidence for a setting whose effective value cannot be known (`Setting.error`): what was found, why it does not
 * count, and the command line when that is where the problem is.
 */
export function unknowableEvidence(c: ComponentFact, setting: Setting): Evidence {
  const fromFile = setting.source === 'config-file' || setting.source === 'config-dir';
  const evidence: Evidence = {
    source: fromFile ? setting.source : 'flag',
    key: fromFile || c.name === 'kubelet' && !setting.flag ? setting.key : `--${setting.flag ?? setting.key}`,
    value: setting.value,
    detail: setting.error,
  };
  const path = setting.path ?? c.path;
  if (path) evidence.path = path;
  if (!fromFile) evidence.origin = c.source;
  if (setting.commandLine) evidence.argv = setting.commandLine;
  if (c.candidates) evidence.pids = c.candidates;
  return evidence;
}
