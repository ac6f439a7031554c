// Kubelet checks judge the EFFECTIVE setting (flag > drop-in > config file > the default of this kind of kubelet).
import type { Evidence } from '../../../../proto/report.js';
import type { Check } from '../../check.js';
import type { KubeletConfigFact, Setting, Snapshot } from '../../../facts/snapshot.js';
import { parseGoBool } from '../../../../common/bool.js';
import { componentResource, notRunning, type CheckMeta, type Judgement } from './helpers.js';

export type Settings = Record<string, Setting>;

export function settingEvidence(setting: Setting, expected: string, detail?: string): Evidence {
  const evidence: Evidence = { source: setting.source, key: setting.key, value: setting.value, expected };
  if (setting.path) evidence.path = setting.path;
  if (setting.flag) evidence.flag = `--${setting.flag}`;
  const notes = [detail, setting.note].filter((n): n is string => !!n);
  if (notes.length > 0) evidence.detail = notes.join('; ');
  return evidence;
}

/** Why the settings cannot be trusted for this check, if they cannot. */
function unreadable(k: KubeletConfigFact, keys: readonly string[]): { key: string; detail: string } | undefined {
  for (const key of keys) {
    const setting = k.settings[key];
    if (!setting) return { key, detail: `setting ${key} is missing from the kubelet facts` };
    // The kubelet started with this file, so its values are real; only the agent could not read them.
    if (k.configPath && !k.configLoaded && setting.source !== 'flag') {
      return { key, detail: `the kubelet config file ${k.configPath} could not be read, so the effective ${key} is unknown` };
    }
  }
  return undefined;
}

export function kubeletCheck(spec: CheckMeta & {
  keys: readonly string[];
  judge: (settings: Settings, s: Snapshot) => Judgement;
}): Check {
  const { keys, judge, ...meta } = spec;
  return {
    ...meta,
    component: 'kubelet',
    evaluate(s) {
      const c = s.components.kubelet;
      if (!c) return [notRunning('kubelet')];
      const resource = componentResource(c);
      if (!s.kubelet) {
        return [{ status: 'error', resource, evidence: { source: 'gather', detail: 'the kubelet configuration was not gathered' } }];
      }
      const problem = unreadable(s.kubelet, keys);
      if (problem) {
        return [{ status: 'error', resource, evidence: { source: 'gather', key: problem.key, path: s.kubelet.configPath, detail: problem.detail } }];
      }
      const j = judge(s.kubelet.settings, s);
      return [{ status: j.status, resource, evidence: j.evidence, ...(j.severity ? { severity: j.severity } : {}) }];
    },
  };
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go time.ParseDuration, in nanoseconds; undefined when the text is not a duration. */
export function parseGoDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0' || t === '+0' || t === '-0') return 0;
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(t);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * UNIT_NS[part[2]];
  }
  return m[1] === '-' ? -total : total;
}

/** Settings are normalised to booleans by gather; a stray string is read as Go would. */
export const asBool = (value: unknown): boolean | undefined => parseGoBool(value);

export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

export function asList(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String).map((v) => v.trim()).filter(Boolean);
  if (typeof value === 'string') return value.split(',').map((v) => v.trim()).filter(Boolean);
  return undefined;
}

/** The value was read from the kubelet config file or a drop-in, where the kubelet's defaulting applies to zero values. */
export const fromConfigFile = (setting: Setting): boolean => setting.source === 'config-file' || setting.source === 'config-dir';

export const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';
