// Every CIS check of sections 1-4: coverage of the reference table, and pass / fail / skip on whole nodes.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FindingSchema } from '../../../proto/report.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { COMPONENTS } from '../../../agent/facts/snapshot.js';
import { emptySnapshot } from './snapshot-factory.js';
import { CIS_CHECKS, MANUAL_REVIEW, hardenedNode, weakNode } from './cis-profiles.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TSV_CANDIDATES = ['/work/shared/reference/cis-checks.tsv', path.resolve(repoRoot, '../shared/reference/cis-checks.tsv')];

function tsvIds(): string[] | undefined {
  const found = TSV_CANDIDATES.find((p) => existsSync(p));
  if (!found) return undefined;
  const [header, ...rows] = readFileSync(found, 'utf8').split('\n').filter((l) => l.trim() !== '');
  expect(header.split('\t')[0]).toBe('id');
  return rows.map((r) => r.split('\t')[0]).filter((id) => /^[1-4]\./.test(id));
}

describe('CIS sections 1-4 coverage', () => {
  it('has exactly one check for every id of sections 1-4 of the reference table', () => {
    const ids = tsvIds();
    if (!ids) {
      console.warn(`cis-checks.tsv not found (looked in ${TSV_CANDIDATES.join(', ')}): coverage against the table not asserted`);
      return;
    }
    expect(ids.length).toBeGreaterThan(90);
    for (const id of ids) {
      const matching = CIS_CHECKS.filter((c) => c.cis === id);
      expect(matching.map((c) => c.id), `checks for ${id}`).toEqual([`cis-${id}`]);
    }
    const extra = CIS_CHECKS.filter((c) => c.cis !== null && !ids.includes(c.cis)).map((c) => c.id);
    expect(extra).toEqual([]);
  });

  it('has unique ids, the extra kubelet check, and a known component on every check', () => {
    const ids = CIS_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(CIS_CHECKS.find((c) => c.id === 'kubelet-protect-kernel-defaults')?.cis).toBeNull();
    const allowed = new Set<string>([...COMPONENTS, 'cluster']);
    for (const c of CIS_CHECKS) {
      expect(allowed.has(c.component), c.id).toBe(true);
      expect(c.remediation.length, c.id).toBeGreaterThan(20);
      if (c.cis) expect(c.id).toBe(`cis-${c.cis}`);
    }
  });
});

describe('CIS checks on whole nodes', () => {
  it('skips every check on a node where nothing runs and no file exists', () => {
    const s = emptySnapshot();
    for (const check of CIS_CHECKS) {
      const verdicts = check.evaluate(s);
      expect(verdicts.length, check.id).toBe(1);
      expect(verdicts[0].status, check.id).toBe('skip');
      expect(verdicts[0].evidence.detail, check.id).toBeTruthy();
    }
  });

  it('skips component checks with the discovery evidence when their component is absent', () => {
    const s = emptySnapshot();
    for (const check of CIS_CHECKS.filter((c) => c.component !== 'cluster')) {
      const [v] = check.evaluate(s);
      expect(v.resource, check.id).toEqual({ kind: 'component', component: check.component });
      expect(v.evidence, check.id).toEqual({ source: 'discovery', detail: `${check.component} does not run on this node` });
    }
  });

  it('passes every automated check on a hardened node (manual reviews warn)', () => {
    const s = hardenedNode();
    for (const check of CIS_CHECKS) {
      const statuses = check.evaluate(s).map((v) => v.status);
      expect(statuses.length, check.id).toBeGreaterThan(0);
      const want = MANUAL_REVIEW.has(check.id) ? 'warn' : 'pass';
      expect(statuses, `${check.id}: ${JSON.stringify(check.evaluate(s).map((v) => v.evidence))}`).toEqual(statuses.map(() => want));
    }
  });

  it('fails every automated check on a weak node (manual reviews warn)', () => {
    const s = weakNode();
    for (const check of CIS_CHECKS) {
      const statuses = check.evaluate(s).map((v) => v.status);
      expect(statuses.length, check.id).toBeGreaterThan(0);
      const want = MANUAL_REVIEW.has(check.id) ? 'warn' : 'fail';
      expect(statuses, `${check.id}: ${JSON.stringify(check.evaluate(s).map((v) => v.evidence))}`).toEqual(statuses.map(() => want));
    }
  });

  it('produces findings that match the report schema, with stable ids', () => {
    for (const s of [emptySnapshot(), hardenedNode(), weakNode()]) {
      const findings = evaluate(s, CIS_CHECKS);
      for (const f of findings) expect(FindingSchema.safeParse(f).success, f.checkId).toBe(true);
      expect(evaluate(s, CIS_CHECKS).map((f) => f.id)).toEqual(findings.map((f) => f.id));
      expect(findings.filter((f) => f.status === 'error')).toEqual([]);
    }
  });
});
