// A benchmark check written as a row: its data, the facts it reads, and an op (ops.ts) or a named judge (judges/).
// `compileRow` turns a row into a Check. What every row of a component shares is here too: the skip when the
// component does not run, and when its settings cannot be judged (an unreadable kubelet config, an etcd
// --config-file Vigil does not read).
import type { Evidence, Resource } from '../../proto/report.js';
import { setting as settingInput, type Input } from '../facts/inputs.js';
import type { ComponentFact, ComponentName, FileFact, KubeletConfigFact, Setting, Snapshot } from '../facts/snapshot.js';
import type { Check, CheckMeta, Judgement, Verdict } from './check.js';
import { componentResource, notRunning, settingEvidence, unknowableEvidence, type EvidenceOptions } from './evidence.js';
import { applyFileOp, applyOp, expectedOf, isFileOp, type FileOp, type SettingOp } from './ops.js';

interface RowBase extends CheckMeta {
  component: ComponentName | 'cluster';
  /** Every fact the row reads. For an op: the settings it compares, in order, or the one `files` role it judges. */
  reads: readonly Input[];
  /** The component that must run for the row to apply, and whose settings it reads (default: `component`). */
  runsOn?: ComponentName;
}

/** File mode or owner: one verdict per file of the role; a skip saying `missing` when there is none. */
export interface FileRow extends RowBase {
  op: FileOp;
  missing: string;
}

export interface SettingRow extends RowBase {
  op: SettingOp;
}

export interface JudgeRow extends RowBase {
  judge: Judge;
  /** What the judge expects, for the verdict given when the component's settings cannot be judged (etcd). */
  expected?: string;
}

export type Row = FileRow | SettingRow | JudgeRow;

/** A benchmark version: its rows in id order. A new CIS version is a new table (benchmarks/). */
export interface Benchmark {
  name: string;
  version: string;
  rows: readonly Row[];
}

export interface JudgeContext {
  /** The component the row judges (`runsOn`). */
  component: ComponentFact;
  snapshot: Snapshot;
  /** A setting of the judged component; it must be declared in the row's `reads`. */
  setting(key: string): Setting;
  /** A setting of another component, when that one runs; declared in `reads` too. */
  settingOf(component: ComponentName, key: string): Setting | undefined;
  /** An op on declared settings of the judged component. */
  apply(op: SettingOp, ...keys: string[]): Judgement;
  /** Evidence for a setting of the judged component, in its component's shape. */
  evidence(setting: Setting, expected: string, opts?: EvidenceOptions): Evidence;
}

export type Judge = (ctx: JudgeContext) => Judgement;

export function compileBenchmark(b: Benchmark): Check[] {
  return b.rows.map(compileRow);
}

export function compileRow(row: Row): Check {
  if ('op' in row && isFileOp(row.op)) return compileFileRow(row as FileRow);
  return compileSettingRow(row as SettingRow | JudgeRow);
}

function metaOf(row: Row): CheckMeta {
  const meta: CheckMeta = { id: row.id, cis: row.cis, title: row.title, severity: row.severity, component: row.component, remediation: row.remediation };
  if (row.differsFromKubeBench) meta.differsFromKubeBench = row.differsFromKubeBench;
  return meta;
}

function compileFileRow(row: FileRow): Check {
  const input = row.reads[0];
  if (row.reads.length !== 1 || input.kind !== 'files') throw new Error(`${row.id}: a file op reads exactly one files input`);
  const filesOf = (s: Snapshot): FileFact[] => (input.role === 'cni' ? s.cni.files : s.files[input.role] ?? []);
  return {
    ...metaOf(row),
    reads: row.reads,
    evaluate(s) {
      if (row.runsOn && !s.components[row.runsOn]) return [notRunning(row.runsOn)];
      const listed = filesOf(s);
      const verdicts: Verdict[] = [];
      for (const f of listed) {
        if (f.error) {
          verdicts.push({
            status: 'error',
            resource: { kind: 'file', path: f.path },
            evidence: { source: 'file', path: f.path, detail: `${f.error.code}: ${f.error.message}` },
          });
        } else if (f.exists) {
          verdicts.push(applyFileOp(row.op, f));
        }
      }
      if (verdicts.length > 0) return verdicts;
      const skipResource: Resource = listed.length > 0
        ? { kind: 'file', path: listed[0].path }
        : row.component === 'cluster' ? { kind: 'node' } : { kind: 'component', component: row.component };
      const looked = listed.map((f) => f.path).join(', ');
      return [{ status: 'skip', resource: skipResource, evidence: { source: 'file', detail: looked ? `${row.missing} (looked for ${looked})` : row.missing } }];
    },
  };
}

function compileSettingRow(row: SettingRow | JudgeRow): Check {
  const judged = row.runsOn ?? row.component;
  if (judged === 'cluster') throw new Error(`${row.id}: a row on the cluster names the component it reads (runsOn)`);
  /** The judged component's settings the row declares, in order: what an op compares. */
  const keys = row.reads.flatMap((i) => (i.kind === 'setting' && i.component === judged ? [i.key] : []));
  // etcd ignores flags and environment when started with --config-file: every etcd row reads that setting too.
  const reads = judged === 'etcd' && !keys.includes('config-file') ? [...row.reads, settingInput('etcd', 'config-file')] : row.reads;
  const declared = new Map<ComponentName, Set<string>>();
  for (const i of reads) if (i.kind === 'setting') (declared.get(i.component) ?? declared.set(i.component, new Set()).get(i.component)!).add(i.key);
  const expected = 'op' in row ? expectedOf(row.op) : row.expected;

  return {
    ...metaOf(row),
    reads,
    evaluate(s) {
      const c = s.components[judged];
      if (!c) return [notRunning(judged)];
      const resource = componentResource(c);
      if (judged === 'kubelet') {
        const problem = kubeletUnreadable(s.kubelet, keys);
        if (problem) return [{ status: 'error', resource, evidence: problem }];
      }
      const settingOf = (component: ComponentName, key: string): Setting | undefined => {
        if (!declared.get(component)?.has(key)) throw new Error(`${row.id} reads ${component} ${key} without declaring it`);
        return component === 'kubelet' ? s.kubelet?.settings[key] : s.components[component]?.settings[key];
      };
      const setting = (key: string): Setting => {
        const found = settingOf(judged, key);
        if (!found) throw new Error(`${row.id}: ${judged} has no setting ${key} (gather does not resolve it)`);
        return found;
      };
      // A value the component would refuse, or one that depends on a guess, is never judged.
      const unknowable = keys.map(setting).find((st) => st.error !== undefined);
      if (unknowable) return [{ status: 'error', resource, evidence: unknowableEvidence(c, unknowable) }];
      // Kubelet evidence names the config file a value came from, not the component.
      const evidenceComponent = judged === 'kubelet' ? undefined : c;
      if (judged === 'etcd') {
        const unread = etcdConfigFile(c, setting, keys, expected);
        if (unread) return [{ status: 'warn', resource, evidence: unread }];
      }
      const apply = (op: SettingOp, ...opKeys: string[]): Judgement => applyOp(op, evidenceComponent, opKeys.map(setting));
      const j = 'op' in row ? apply(row.op, ...keys) : row.judge({
        component: c,
        snapshot: s,
        setting,
        settingOf,
        apply,
        evidence: (value, exp, opts) => settingEvidence(evidenceComponent, value, exp, opts),
      });
      const verdict: Verdict = { status: j.status, resource, evidence: j.evidence };
      if (j.severity) verdict.severity = j.severity;
      if (j.title) verdict.title = j.title;
      if (j.discriminator) verdict.discriminator = j.discriminator;
      return [verdict];
    },
  };
}

/** Why the kubelet's settings cannot be judged: not gathered, or its config file unreadable for a value not set by flag. */
function kubeletUnreadable(k: KubeletConfigFact | undefined, keys: readonly string[]): Evidence | undefined {
  if (!k) return { source: 'gather', detail: 'the kubelet configuration was not gathered' };
  for (const key of keys) {
    const setting = k.settings[key];
    if (!setting) return { source: 'gather', key, path: k.configPath, detail: `setting ${key} is missing from the kubelet facts` };
    // The kubelet started with this file, so its values are real; only the agent could not read them.
    if (k.configPath && !k.configLoaded && setting.source !== 'flag') {
      return { source: 'gather', key, path: k.configPath, detail: `the kubelet config file ${k.configPath} could not be read, so the effective ${key} is unknown` };
    }
  }
  return undefined;
}

/** With --config-file, etcd ignores its flags and environment, and Vigil does not read that file: every etcd row warns. */
function etcdConfigFile(c: ComponentFact, setting: (key: string) => Setting, keys: readonly string[], expected: string | undefined): Evidence | undefined {
  const file = setting('config-file').value;
  if (typeof file !== 'string' || file === '') return undefined;
  return settingEvidence(c, setting(keys[0] ?? 'config-file'), expected ?? '', {
    detail: `etcd is started with --config-file ${file}, which overrides flags and environment and which Vigil does not read`,
    defaultApplies: false,
  });
}
