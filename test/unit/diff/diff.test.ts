import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { applyDelta, diffFindings, diffReports, isEmptyDelta, stableJson } from '../../../agent/diff/index.js';

const finding = (id: string, over: Partial<Finding> = {}): Finding => ({
  id, checkId: id.split(':')[0], cis: '1.1.1', status: 'pass', severity: 'high', title: `t ${id}`, component: 'kubelet',
  resource: { kind: 'file', path: `/etc/${id}` }, evidence: { source: 'file', value: 420 }, remediation: 'r', ...over,
});

describe('diffFindings', () => {
  it('sorts findings into added, changed and resolved by id', () => {
    const before = [finding('a:1'), finding('b:1'), finding('c:1')];
    const after = [finding('a:1'), finding('b:1', { status: 'fail' }), finding('d:1')];
    const d = diffFindings(before, after, '2026-01-01T00:00:00Z');
    expect(d.added.map((f) => f.id)).toEqual(['d:1']);
    expect(d.changed.map((f) => [f.id, f.status])).toEqual([['b:1', 'fail']]);
    expect(d.resolved).toEqual(['c:1']);
    expect(d.scannedAt).toBe('2026-01-01T00:00:00Z');
  });

  it('sees a change deep in evidence but not a different key order', () => {
    const a = finding('a:1', { evidence: { source: 'file', value: { mode: '0644', owner: 'root' } } });
    const reordered = { ...a, evidence: { value: { owner: 'root', mode: '0644' }, source: 'file' } } as Finding;
    expect(isEmptyDelta(diffFindings([a], [reordered], 'x'))).toBe(true);
    const modeChanged = finding('a:1', { evidence: { source: 'file', value: { mode: '0600', owner: 'root' } } });
    expect(diffFindings([a], [modeChanged], 'x').changed).toHaveLength(1);
    expect(stableJson({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
  });

  it('treats everything as added without a previous report, and applying the delta reproduces the report', () => {
    const current = [finding('a:1'), finding('b:1', { status: 'warn' })];
    const report = { schemaVersion: 1 as const, node: { name: 'n', roles: [] }, scannedAt: '2026-01-01T00:00:00Z', findings: current,
      summary: { pass: 1, fail: 0, warn: 1, skip: 0, error: 0 } };
    const first = diffReports(undefined, report);
    expect(first.added).toHaveLength(2);
    const before = [finding('a:1', { status: 'fail' }), finding('z:1')];
    const d = diffFindings(before, current, 'x');
    const applied = applyDelta(before, d).sort((x, y) => x.id.localeCompare(y.id));
    expect(applied).toEqual([...current].sort((x, y) => x.id.localeCompare(y.id)));
  });

  it('keeps the first of duplicate ids in one report', () => {
    const d = diffFindings([], [finding('a:1'), finding('a:1', { status: 'fail' })], 'x');
    expect(d.added).toHaveLength(1);
    expect(d.added[0].status).toBe('pass');
  });
});
