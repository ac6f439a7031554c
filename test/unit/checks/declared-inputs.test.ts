// Every producer of findings reads only the facts it declares (watch targets and fast-path re-runs are derived from
// these declarations), and no check reads a component's raw command line or environment: only effective settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../../agent/evaluate/check.js';
import { CATALOGUE } from '../../../agent/evaluate/catalogue.js';
import type { ComponentFact, ComponentName, Setting, Snapshot } from '../../../agent/facts/snapshot.js';
import { fixturePki } from '../../fixtures/hosts/pki.js';
import { FIXTURE_HOSTS } from '../scan/fixture-hosts.js';
import { scanFixture } from '../scan/verdicts.js';
import { emptySnapshot } from './snapshot-factory.js';
import { hardenedNode, weakNode } from './cis-profiles.js';

/** Gets are allowed for `allowed` keys (and symbols); anything else throws naming what was read. */
function only<T extends object>(target: T, allowed: (key: string) => boolean, what: (key: string) => string): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === 'symbol' || allowed(key)) return Reflect.get(t, key, receiver);
      throw new Error(`reads ${what(key)} without declaring it`);
    },
  });
}

/** The snapshot as `check` may see it: what it declares, and the components' identity (never argv, flags or env). */
function asDeclared(s: Snapshot, check: Check): Snapshot {
  const facts = new Set(check.reads.flatMap((i) => (i.kind === 'fact' ? [i.fact] : [])));
  const roles = new Set<string>(check.reads.flatMap((i) => (i.kind === 'files' ? [i.role] : [])));
  const keys = (c: ComponentName) => new Set(check.reads.flatMap((i) => (i.kind === 'setting' && i.component === c ? [i.key] : [])));
  const settingsOf = (c: ComponentName, settings: Record<string, Setting>) =>
    only(settings, (k) => keys(c).has(k), (k) => `setting ${c} ${k}`);
  const component = (c: ComponentFact): ComponentFact => only(
    { ...c, settings: settingsOf(c.name, c.settings) },
    (k) => !['argv', 'flags', 'env'].includes(k),
    (k) => `${c.name} ${k} (checks read effective settings)`,
  );
  const components = Object.fromEntries(Object.entries(s.components).map(([name, c]) => [name, c && component(c)]));
  const factNamed: Record<string, string> = {
    certificates: 'certificates', keys: 'keys', sockets: 'sockets', containers: 'containers', kernel: 'kernel',
    encryptionConfig: 'encryptionConfig', kubeProxyConfig: 'kubeProxyConfig', errors: 'gatherErrors',
  };
  const view: Snapshot = {
    ...s,
    components,
    files: only({ ...s.files }, (role) => roles.has(role), (role) => `files ${role}`),
    kubelet: s.kubelet && only({ ...s.kubelet, settings: settingsOf('kubelet', s.kubelet.settings) },
      () => keys('kubelet').size > 0, (k) => `kubelet ${k}`),
    cni: facts.has('cni') ? s.cni : only({ ...s.cni }, (k) => k === 'files' && roles.has('cni'), (k) => `cni ${k}`),
  };
  return only(view, (k) => !(k in factNamed) || facts.has(factNamed[k] as never), (k) => `the ${k} fact`);
}

const snapshots: Array<[string, Snapshot]> = [];
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  fixturePki();
  for (const [name, spec] of Object.entries(FIXTURE_HOSTS)) {
    const scanned = await scanFixture(spec());
    cleanups.push(() => scanned.host.cleanup());
    snapshots.push([name, scanned.snapshot]);
  }
  snapshots.push(['empty', emptySnapshot()], ['cis-hardened', hardenedNode()], ['cis-weak', weakNode()]);
});
afterAll(() => { for (const c of cleanups) c(); });

describe('declared inputs', () => {
  it('every producer of findings reads only what it declares, and no raw argv, flags or environment', () => {
    const problems: string[] = [];
    for (const check of CATALOGUE) {
      for (const [name, s] of snapshots) {
        try {
          check.evaluate(asDeclared(s, check));
        } catch (err) {
          problems.push(`${check.id} on ${name}: ${(err as Error).message}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the guard itself catches an undeclared read', () => {
    const sneaky: Check = { ...CATALOGUE.find((c) => c.id === 'cis-1.2.15')!, reads: [] };
    expect(() => sneaky.evaluate(asDeclared(snapshots[0][1], sneaky))).toThrow(/without declaring it/);
    const argv: Check = { ...sneaky, evaluate: (s) => { void s.components['kube-apiserver']?.flags; return []; } };
    expect(() => argv.evaluate(asDeclared(snapshots[0][1], argv))).toThrow(/kube-apiserver flags/);
  });
});
