// kube-apiserver admission plugins, judged on the effective plugin set rather than the text of one flag.
import type { Judge, JudgeContext } from '../rows.js';

/** The settings an admission judge reads. */
export const ADMISSION_FLAGS = ['admission-control', 'enable-admission-plugins', 'disable-admission-plugins'] as const;

interface PluginState {
  on: boolean;
  /** The flag the verdict rests on. */
  flag: (typeof ADMISSION_FLAGS)[number];
  list: string[] | undefined;
  why: string;
}

const given = (ctx: JudgeContext, flag: string): string[] | undefined => {
  const s = ctx.setting(flag);
  return s.source === 'flag' ? (s.value as string[]) : undefined;
};

/**
 * Effective state of an admission plugin. The deprecated --admission-control list replaces the whole
 * default set; otherwise the set is the defaults plus --enable-admission-plugins minus --disable-admission-plugins
 * (the API server refuses to start when one plugin is in both).
 */
function admissionPluginState(ctx: JudgeContext, name: string, defaultOn: boolean): PluginState {
  const legacy = given(ctx, 'admission-control');
  if (legacy) {
    const on = legacy.includes(name);
    return { on, flag: 'admission-control', list: legacy, why: `${name} ${on ? 'is' : 'is not'} in the deprecated --admission-control list, which replaces the default plugin set` };
  }
  const enabled = given(ctx, 'enable-admission-plugins');
  const disabled = given(ctx, 'disable-admission-plugins');
  if (disabled?.includes(name)) return { on: false, flag: 'disable-admission-plugins', list: disabled, why: `${name} is disabled` };
  if (enabled?.includes(name)) return { on: true, flag: 'enable-admission-plugins', list: enabled, why: `${name} is enabled` };
  return defaultOn
    ? { on: true, flag: 'disable-admission-plugins', list: disabled, why: `${name} is on by default and not disabled` }
    : { on: false, flag: 'enable-admission-plugins', list: enabled, why: `${name} is off by default and not in --enable-admission-plugins` };
}

/** CIS 1.2.3, 1.2.9-1.2.14: plugin `name` (on by default or not) must be on (`wantOn`) or off. */
export function admissionPlugin(name: string, opts: { wantOn: boolean; defaultOn: boolean }): Judge {
  return (ctx) => {
    const state = admissionPluginState(ctx, name, opts.defaultOn);
    const expected = opts.wantOn ? `${name} enabled` : `${name} not enabled`;
    return {
      status: state.on === opts.wantOn ? 'pass' : 'fail',
      evidence: ctx.evidence(ctx.setting(state.flag), expected, { value: state.list, detail: state.why }),
    };
  };
}
