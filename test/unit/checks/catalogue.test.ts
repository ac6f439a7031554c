// The catalogue and the CIS 1.12 table: one producer per id, every declared setting resolved by gather, most CIS
// items written as ops, and the ops agreeing with kube-bench's own encoding of the benchmark (cis-checks.tsv).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BENCHMARK, CATALOGUE } from '../../../agent/evaluate/catalogue.js';
import { octal } from '../../../agent/evaluate/ops.js';
import { compileRow, type Row } from '../../../agent/evaluate/rows.js';
import { setting } from '../../../agent/facts/inputs.js';
import { knownSettings } from '../../../agent/gather/component-settings.js';
import { KUBELET_SETTINGS } from '../../../agent/gather/kubelet-config.js';
import { equals } from '../../../agent/evaluate/ops.js';
import { emptySnapshot, withComponent } from './snapshot-factory.js';

const TSV = '/work/shared/reference/cis-checks.tsv';

function tsvRows(): Map<string, { kind: string; target: string; expected: string }> | undefined {
  if (!existsSync(TSV)) return undefined;
  const [, ...lines] = readFileSync(TSV, 'utf8').split('\n').filter((l) => l.trim() !== '');
  return new Map(lines.map((l) => l.split('\t')).map(([id, , , kind, target, expected]) => [id, { kind, target, expected }]));
}

const cisOrder = (a: string, b: string): number => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? -1) !== (pb[i] ?? -1)) return (pa[i] ?? -1) - (pb[i] ?? -1);
  return 0;
};

describe('the catalogue', () => {
  it('registers every producer of findings once, with what it reads', () => {
    const ids = CATALOGUE.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['vigil.gather-error', 'vigil.watch.sensitive-file-changed', 'vigil.watch.polling-fallback', 'container-gather-error']));
    for (const c of CATALOGUE) expect(Array.isArray(c.reads), c.id).toBe(true);
  });

  it('declares only settings that gather resolves', () => {
    const kubelet = new Set(KUBELET_SETTINGS.map((s) => s.key));
    const unknown = CATALOGUE.flatMap((c) => c.reads.flatMap((i) => {
      if (i.kind !== 'setting') return [];
      const known = i.component === 'kubelet' ? kubelet.has(i.key) : knownSettings(i.component).includes(i.key);
      return known ? [] : [`${c.id}: ${i.component} ${i.key}`];
    }));
    expect(unknown).toEqual([]);
  });
});

describe('the CIS 1.12 table', () => {
  const rows = BENCHMARK.rows;
  const cisRows = rows.filter((r): r is Row & { cis: string } => r.cis !== null);

  it('lists its rows in CIS id order', () => {
    expect(cisRows.map((r) => r.cis)).toEqual([...cisRows.map((r) => r.cis)].sort(cisOrder));
  });

  it('writes about two thirds of the CIS items as ops, the rest as named judges', () => {
    const ops = cisRows.filter((r) => 'op' in r).length;
    expect(ops / cisRows.length).toBeGreaterThanOrEqual(0.6);
    for (const r of rows) expect('op' in r !== 'judge' in r, r.id).toBe(true);
  });

  it('agrees with kube-bench: the same file bitmask and owner, the same setting', () => {
    const tsv = tsvRows();
    if (!tsv) { console.warn(`${TSV} not found: the table is not compared with kube-bench's`); return; }
    for (const r of cisRows) {
      const kb = tsv.get(r.cis);
      expect(kb, r.cis).toBeDefined();
      if (!('op' in r)) continue;
      if (r.op.op === 'mode-at-most') {
        expect(kb!.kind, r.cis).toBe('file-permissions');
        expect(kb!.expected, r.cis).toMatch(new RegExp(`^bitmask ${octal(r.op.mask).replace(/^0/, '')}\\b`));
      } else if (r.op.op === 'owner-is') {
        expect(kb!.kind, r.cis).toBe('file-ownership');
        const owner = 'uid' in r.op.owner ? 'root:root' : `${r.op.owner.user}:${r.op.owner.group}`;
        expect(kb!.expected, r.cis).toContain(`owner ${owner}`);
      } else {
        // The setting the op compares is the one kube-bench reads: the flag, or the kubelet config key or its flag.
        for (const i of r.reads) {
          if (i.kind !== 'setting') continue;
          const names = [i.key, ...(i.component === 'kubelet' ? [KUBELET_SETTINGS.find((k) => k.key === i.key)?.flag ?? i.key] : [])];
          const named = names.some((n) => new RegExp(`(^|[\\s|(,])(--)?${n.replace(/\./g, '\\.')}($|[\\s|),])`).test(kb!.target));
          expect(named, `${r.cis}: ${names.join(' or ')} in ${kb!.target}`).toBe(true);
        }
      }
    }
  });

  it('compiles a new row into a check: a setting comparison is one row', () => {
    const row: Row = {
      id: 'example-profiling', cis: null, title: 'Example: API server profiling off', severity: 'low', component: 'kube-apiserver',
      remediation: 'Set --profiling=false on the API server.', reads: [setting('kube-apiserver', 'profiling')], op: equals(false),
    };
    const check = compileRow(row);
    expect(check.evaluate(withComponent(emptySnapshot(), 'kube-apiserver', ['--profiling=false']))[0].status).toBe('pass');
    const [unset] = check.evaluate(withComponent(emptySnapshot(), 'kube-apiserver'));
    expect(unset).toMatchObject({ status: 'fail', evidence: { source: 'default', key: '--profiling', value: 'true', expected: 'false' } });
    expect(check.evaluate(emptySnapshot())[0]).toMatchObject({ status: 'skip', evidence: { source: 'discovery' } });
  });
});
