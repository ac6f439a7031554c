// The baseline must do real work (find the process, stat the file) or the speed-up it shows is fiction.
import { describe, expect, it } from 'vitest';
import { buildHost } from '../fixtures/build.js';
import { baselineChecks, runBaseline } from './kube-bench-baseline.js';
import { percentile } from './scan.js';
import { finding } from '../unit/report/sample-report.js';

describe('kube-bench-style baseline', () => {
  it('runs one shell per judged CIS check and each finds what it audits on the fixture', () => {
    const host = buildHost({
      files: { "/etc/kubernetes/manifests/kube-apiserver's.yaml": { content: 'x', mode: 0o600 } },
      procs: [{ pid: 10, argv: ['kube-apiserver', '--anonymous-auth=false'] }],
    });
    try {
      const findings = [
        finding({ checkId: 'a', cis: '1.1.1', status: 'pass', title: 'manifest mode', component: 'kube-apiserver',
          resource: { kind: 'file', path: "/etc/kubernetes/manifests/kube-apiserver's.yaml" }, evidence: { source: 'stat' } }),
        finding({ checkId: 'b', cis: '1.2.1', status: 'fail', title: 'anonymous auth', component: 'kube-apiserver',
          resource: { kind: 'component', component: 'kube-apiserver' }, evidence: { source: 'flag' } }),
        finding({ checkId: 'c', cis: '4.2.1', status: 'skip', title: 'kubelet', component: 'kubelet',
          resource: { kind: 'component', component: 'kubelet' }, evidence: { source: 'flag' } }),
        finding({ checkId: 'd', cis: null, status: 'fail', title: 'kernel', resource: { kind: 'kernel', key: 'x' }, evidence: { source: 's' } }),
      ];
      const checks = baselineChecks(findings, host.hostRoot, host.procRoot);
      expect(checks.map((c) => c.cis)).toEqual(['1.1.1', '1.2.1']);
      expect(checks[0].command).toContain('stat -c %a');
      expect(runBaseline(checks)).toBe(2);
    } finally {
      host.cleanup();
    }
  });

  it('computes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile([7], 95)).toBe(7);
    expect(() => percentile([], 50)).toThrow(/no samples/);
  });
});
