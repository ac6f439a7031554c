// The fast path re-runs exactly the checks that declare they read a changed path, and keeps every other finding.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { fact, files, setting } from '../../../agent/facts/inputs.js';
import type { Check } from '../../../agent/evaluate/check.js';
import { ALL_CHECKS } from '../../../agent/evaluate/catalogue.js';
import { HostAccess } from '../../../agent/gather/host.js';
import { checksReading, patchFileFacts, reevaluate } from '../../../agent/watch/fast-path.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { fixturePki } from '../../fixtures/hosts/pki.js';
import { emptySnapshot, file, withFiles, withKubelet } from '../checks/snapshot-factory.js';
import { scanFixture, type Scanned } from '../scan/verdicts.js';

/** A check that counts its runs and reads what it is told. */
function counting(id: string, reads: Check['reads']): Check & { runs: number } {
  const check = {
    id, cis: null, title: id, severity: 'low' as const, component: 'node', remediation: 'none', reads, runs: 0,
    evaluate() { check.runs++; return [{ status: 'pass' as const, resource: { kind: 'node' as const }, evidence: { source: 'test', value: check.runs } }]; },
  };
  return check;
}

describe('checks re-run after a change', () => {
  const s = withFiles(withKubelet(emptySnapshot(), 'config'), 'admin.kubeconfig', file('/etc/kubernetes/admin.conf', 0o600));
  s.certificates = [{ path: '/etc/kubernetes/pki/ca.crt', index: 0, count: 1, file: file('/etc/kubernetes/pki/ca.crt', 0o644), sans: [], usedBy: [] }];

  it('re-runs exactly the checks whose declared inputs name the changed path', () => {
    const admin = counting('reads-admin-kubeconfig', [files('admin.kubeconfig')]);
    const kubelet = counting('reads-kubelet-setting', [setting('kubelet', 'readOnlyPort')]);
    const certs = counting('reads-certificates', [fact('certificates')]);
    const sockets = counting('reads-sockets', [fact('sockets')]);
    const checks = [admin, kubelet, certs, sockets];
    const previous = checks.flatMap((c) => c.evaluate(s).map((v): Finding => ({
      id: `${c.id}:0`, checkId: c.id, cis: null, status: v.status, severity: 'low', title: c.id, component: 'node',
      resource: v.resource, evidence: v.evidence, remediation: 'none',
    })));

    expect(checksReading(s, checks, new Set(['/etc/kubernetes/admin.conf'])).map((c) => c.id)).toEqual(['reads-admin-kubeconfig']);
    // The kubelet's settings come from its config file: a change there re-runs what reads any kubelet setting.
    expect(checksReading(s, checks, new Set(['/var/lib/kubelet/config.yaml'])).map((c) => c.id)).toEqual(['reads-kubelet-setting']);
    expect(checksReading(s, checks, new Set(['/etc/kubernetes/pki/ca.crt', '/etc/hostname'])).map((c) => c.id)).toEqual(['reads-certificates']);

    const findings = reevaluate(previous, s, checks, new Set(['/etc/kubernetes/admin.conf']))!;
    expect([admin.runs, kubelet.runs, certs.runs, sockets.runs]).toEqual([2, 1, 1, 1]);
    expect(findings.map((f) => f.checkId).sort()).toEqual(checks.map((c) => c.id).sort());
    for (const id of ['reads-kubelet-setting', 'reads-certificates', 'reads-sockets']) {
      expect(findings.find((f) => f.checkId === id)).toBe(previous.find((f) => f.checkId === id));
    }
    expect(reevaluate(previous, s, checks, new Set(['/etc/hostname']))).toBeUndefined();
  });
});

describe('the fast path on a kubeadm control plane', () => {
  let scanned: Scanned;
  beforeAll(async () => { fixturePki(); scanned = await scanFixture(kubeadmControlPlane()); });
  afterAll(() => scanned?.host.cleanup());

  it('a chmod of the kubelet config re-runs the checks that read it, and they see the new mode', () => {
    const path = '/var/lib/kubelet/config.yaml';
    const changed = new Set([path]);
    const readers = checksReading(scanned.snapshot, ALL_CHECKS, changed).map((c) => c.id);
    // 4.1.9/4.1.10 judge the file; every kubelet setting check reads its values from it.
    expect(readers).toEqual(expect.arrayContaining(['cis-4.1.9', 'cis-4.1.10', 'cis-4.2.1', 'cis-4.2.4', 'kernel-protect-defaults', 'port-kubelet-readonly']));
    expect(readers).not.toContain('cis-1.1.1');
    expect(readers).not.toContain('pki-cert-expiry');
    const declaring = ALL_CHECKS.filter((c) => c.reads.some((i) => (i.kind === 'setting' && i.component === 'kubelet') || (i.kind === 'files' && i.role === 'kubelet.config')));
    expect([...readers].sort()).toEqual(declaring.map((c) => c.id).sort());

    chmodSync(join(scanned.host.hostRoot, path), 0o600);
    const patched = patchFileFacts(scanned.snapshot, new HostAccess(scanned.host), changed);
    expect([...patched.patched]).toEqual([path]);
    const before = scanned.report.findings;
    const after = reevaluate(before, patched.snapshot, ALL_CHECKS, changed)!;
    expect(before.find((f) => f.checkId === 'cis-4.1.9')!.status).toBe('fail');
    expect(after.find((f) => f.checkId === 'cis-4.1.9')!.status).toBe('pass');
    expect(after.find((f) => f.checkId === 'cis-1.1.1')).toBe(before.find((f) => f.checkId === 'cis-1.1.1'));
    expect(after.length).toBe(before.length);
  });

  it('a chmod of a private key updates the PKI key-mode check, which reads the keys', () => {
    const path = '/etc/kubernetes/pki/apiserver.key';
    chmodSync(join(scanned.host.hostRoot, path), 0o640);
    const changed = new Set([path]);
    const readers = checksReading(scanned.snapshot, ALL_CHECKS, changed).map((c) => c.id);
    expect(readers).toEqual(expect.arrayContaining(['pki-key-file-permissions', 'cis-1.1.21', 'cis-1.1.19']));
    const patched = patchFileFacts(scanned.snapshot, new HostAccess(scanned.host), changed);
    const after = reevaluate(scanned.report.findings, patched.snapshot, ALL_CHECKS, changed)!;
    const mode = after.filter((f) => f.checkId === 'pki-key-file-permissions' && f.resource.kind === 'file' && f.resource.path === path);
    expect(mode.map((f) => f.status)).toEqual(['fail']);
    expect(after.filter((f) => f.checkId === 'cis-1.1.21' && f.resource.kind === 'file' && f.resource.path === path).map((f) => f.status)).toEqual(['fail']);
  });
});
