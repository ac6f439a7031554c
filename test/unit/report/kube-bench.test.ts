import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../agent/report/index.js';
import { groupOf, type KbOutput } from '../../../agent/report/kube-bench.js';
import { controlPlaneReport, finding, noKubernetesReport, report } from './sample-report.js';

const kubeBench = (r = controlPlaneReport()): KbOutput => JSON.parse(renderReport('kube-bench', r));

describe('kube-bench format', () => {
  it('has kube-bench top-level shape: Controls per CIS section and Totals', () => {
    const out = kubeBench();
    expect(Object.keys(out)).toEqual(['Controls', 'Totals']);
    expect(out.Controls.map((c) => [c.id, c.node_type, c.text])).toEqual([
      ['1', 'master', 'Control Plane Security Configuration'],
      ['2', 'etcd', 'Etcd Node Configuration'],
      ['4', 'node', 'Worker Node Security Configuration'],
    ]);
    for (const c of out.Controls) {
      expect(c.version).toBe('cis-1.12');
      expect(c.detected_version).toBe('1.30');
    }
  });

  it('groups results into kube-bench sections in CIS order, with kube-bench field names', () => {
    const master = kubeBench().Controls[0];
    expect(master.tests.map((g) => [g.section, g.desc])).toEqual([['1.1', 'Control Plane Node Configuration Files'], ['1.2', 'API Server']]);
    expect(master.tests[1].results.map((r) => r.test_number)).toEqual(['1.2.1', '1.2.2', '1.2.10']);
    const r = master.tests[1].results[0];
    expect(Object.keys(r).sort()).toEqual(['AuditConfig', 'AuditEnv', 'IsMultiple', 'actual_value', 'audit', 'expected_result',
      'remediation', 'scored', 'status', 'test_desc', 'test_info', 'test_number', 'type'].sort());
    expect(r).toMatchObject({ status: 'FAIL', actual_value: 'true', expected_result: 'false', scored: true, IsMultiple: false });
    expect(r.test_info).toEqual([r.remediation]);
    expect(r.audit).toBe('vigil cis.1.2.1: flag anonymous-auth');
    const etcd = kubeBench().Controls[1];
    expect(etcd.tests.map((g) => g.section)).toEqual(['2']);
  });

  it('maps skip → INFO with type skip and a reason, warn → WARN, and counts per section, control and total', () => {
    const out = kubeBench();
    const api = out.Controls[0].tests[1];
    const skip = api.results.find((r) => r.test_number === '1.2.2')!;
    expect(skip).toMatchObject({ status: 'INFO', type: 'skip', reason: 'skipped by Vigil: flag removed in this version' });
    expect(api.results.find((r) => r.test_number === '1.2.10')!.status).toBe('WARN');
    expect(api).toMatchObject({ pass: 0, fail: 1, warn: 1, info: 1 });
    expect(out.Controls[0]).toMatchObject({ total_pass: 1, total_fail: 2, total_warn: 1, total_info: 1 });
    expect(out.Totals).toEqual({ total_pass: 2, total_fail: 3, total_warn: 1, total_info: 1 });
  });

  it('merges findings that share a CIS id into one IsMultiple result with the worst status', () => {
    const files = kubeBench().Controls[0].tests[0];
    const admin = files.results.filter((r) => r.test_number === '1.1.13');
    expect(admin).toHaveLength(1);
    expect(admin[0]).toMatchObject({
      status: 'FAIL', IsMultiple: true, expected_result: '600 or tighter',
      actual_value: '/etc/kubernetes/admin.conf: 600\n/etc/kubernetes/super\u0007admin.conf: 644',
      audit: 'vigil cis.1.1.13: stat',
    });
  });

  it('leaves out non-CIS findings (PSS, ports, PKI, kernel, gather errors)', () => {
    const text = renderReport('kube-bench', controlPlaneReport());
    expect(text).not.toContain('port.exposed');
    expect(text).not.toContain('vigil.gather-error');
    const numbers = kubeBench().Controls.flatMap((c) => c.tests.flatMap((g) => g.results.map((r) => r.test_number)));
    expect(numbers).toHaveLength(7);
  });

  it('maps an error on a CIS check to WARN with the reason', () => {
    const r = report([finding({
      checkId: 'cis.4.1.1', cis: '4.1.1', status: 'error', component: 'kubelet', title: 'kubelet unit mode',
      resource: { kind: 'file', path: '/etc/systemd/system/kubelet.service' }, evidence: { source: 'stat', detail: 'EACCES: denied' },
    })]);
    const res = kubeBench(r).Controls[0].tests[0].results[0];
    expect(res).toMatchObject({ status: 'WARN', reason: 'could not evaluate: EACCES: denied' });
    expect(kubeBench(r).Controls[0].detected_version).toBeUndefined();
  });

  it('on a node without Kubernetes, every check it lists is INFO', () => {
    const out = kubeBench(noKubernetesReport());
    expect(out.Totals).toEqual({ total_pass: 0, total_fail: 0, total_warn: 0, total_info: 2 });
  });

  it('derives kube-bench groups from CIS ids', () => {
    expect(groupOf('1.2.3')).toBe('1.2');
    expect(groupOf('2.7')).toBe('2');
    expect(groupOf('5.1.13')).toBe('5.1');
  });
});
