// File permission and ownership checks (CIS 1.1.x, 4.1.x): bitmasks, owners, missing and unreadable files.
import { describe, expect, it } from 'vitest';
import { emptySnapshot, file, missingFile, unreadableFile, withComponent, withFiles, withKubelet } from './snapshot-factory.js';
import { one, run } from './cis-profiles.js';

const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

function apiserverManifest(mode: number) {
  const s = withComponent(emptySnapshot(), 'kube-apiserver');
  return withFiles(s, 'apiserver.manifest', file(MANIFEST, mode));
}

describe('permission bitmask (600 or tighter)', () => {
  it.each([
    [0o600, 'pass', '0600'],
    [0o400, 'pass', '0400'],
    [0o000, 'pass', '0000'],
    [0o640, 'fail', '0640'],
    [0o644, 'fail', '0644'],
    [0o700, 'fail', '0700'],
    [0o4600, 'fail', '4600'],
    [0o2600, 'fail', '2600'],
    [0o1600, 'fail', '1600'],
  ] as const)('mode %o → %s', (mode, status, shown) => {
    const v = one('cis-1.1.1', apiserverManifest(mode));
    expect(v.status).toBe(status);
    expect(v.resource).toEqual({ kind: 'file', path: MANIFEST });
    expect(v.evidence).toMatchObject({ source: 'file', path: MANIFEST, value: shown, expected: '0600 or stricter' });
  });

  it('names the offending bits', () => {
    expect(one('cis-1.1.1', apiserverManifest(0o4640)).evidence.detail).toBe('bits 4040 are set beyond 0600');
  });

  it('judges certificates against 644 and the etcd data dir against 700', () => {
    const s = withFiles(emptySnapshot(), 'pki.cert', file('/etc/kubernetes/pki/ca.crt', 0o644), file('/etc/kubernetes/pki/etcd/ca.crt', 0o664));
    expect(run('cis-1.1.20', s).map((v) => v.status)).toEqual(['pass', 'fail']);
    const etcd = withComponent(emptySnapshot(), 'etcd');
    withFiles(etcd, 'etcd.data-dir', file('/var/lib/etcd', 0o700, { type: 'dir' }));
    expect(one('cis-1.1.11', etcd).status).toBe('pass');
    withFiles(etcd, 'etcd.data-dir', file('/var/lib/etcd', 0o2700, { type: 'dir' }));
    expect(one('cis-1.1.11', etcd).status).toBe('fail');
  });
});

describe('ownership', () => {
  it('judges root by uid/gid 0 and reports names', () => {
    const s = withComponent(emptySnapshot(), 'kube-apiserver');
    withFiles(s, 'apiserver.manifest', file(MANIFEST, 0o600));
    expect(one('cis-1.1.2', s)).toMatchObject({ status: 'pass', evidence: { value: 'root:root', expected: 'root:root', uid: 0, gid: 0 } });
    withFiles(s, 'apiserver.manifest', file(MANIFEST, 0o600, { uid: 0, gid: 4, group: 'adm' }));
    expect(one('cis-1.1.2', s)).toMatchObject({ status: 'fail', evidence: { value: 'root:adm' } });
    // A renamed uid 0 account is still root.
    withFiles(s, 'apiserver.manifest', file(MANIFEST, 0o600, { uid: 0, gid: 0, user: 'toor', group: 'wheel' }));
    expect(one('cis-1.1.2', s)).toMatchObject({ status: 'pass', evidence: { value: 'toor:wheel' } });
  });

  it('judges the etcd data dir by the etcd user and group names', () => {
    const s = withComponent(emptySnapshot(), 'etcd');
    withFiles(s, 'etcd.data-dir', file('/var/lib/etcd', 0o700, { uid: 998, gid: 997, user: 'etcd', group: 'etcd', type: 'dir' }));
    expect(one('cis-1.1.12', s)).toMatchObject({ status: 'pass', evidence: { value: 'etcd:etcd', expected: 'etcd:etcd' } });
    withFiles(s, 'etcd.data-dir', file('/var/lib/etcd', 0o700, { type: 'dir' }));
    expect(one('cis-1.1.12', s)).toMatchObject({ status: 'fail', evidence: { value: 'root:root' } });
  });

  it('reports an unknown owner as an error', () => {
    const s = withComponent(emptySnapshot(), 'kube-apiserver');
    withFiles(s, 'apiserver.manifest', { path: MANIFEST, exists: true, type: 'file', mode: 0o600 });
    expect(one('cis-1.1.2', s).status).toBe('error');
    expect(one('cis-1.1.1', s).status).toBe('pass');
  });
});

describe('which files are judged', () => {
  it('gives one verdict per existing file and ignores absent ones (admin.conf, super-admin.conf)', () => {
    const s = withFiles(emptySnapshot(), 'admin.kubeconfig',
      file('/etc/kubernetes/admin.conf', 0o600), missingFile('/etc/kubernetes/super-admin.conf'));
    expect(run('cis-1.1.13', s)).toEqual([expect.objectContaining({ status: 'pass', resource: { kind: 'file', path: '/etc/kubernetes/admin.conf' } })]);
    withFiles(s, 'admin.kubeconfig', file('/etc/kubernetes/admin.conf', 0o600), file('/etc/kubernetes/super-admin.conf', 0o644));
    expect(run('cis-1.1.13', s).map((v) => [v.resource, v.status])).toEqual([
      [{ kind: 'file', path: '/etc/kubernetes/admin.conf' }, 'pass'],
      [{ kind: 'file', path: '/etc/kubernetes/super-admin.conf' }, 'fail'],
    ]);
  });

  it('turns an unreadable file into an error verdict', () => {
    const s = withComponent(emptySnapshot(), 'kube-scheduler');
    withFiles(s, 'scheduler.kubeconfig', unreadableFile('/etc/kubernetes/scheduler.conf'));
    const v = one('cis-1.1.15', s);
    expect(v.status).toBe('error');
    expect(v.evidence.detail).toContain('EACCES');
  });

  it('skips with the paths looked at when the component runs but its file does not exist', () => {
    const s = withComponent(emptySnapshot(), 'kube-apiserver');
    withFiles(s, 'apiserver.manifest', missingFile(MANIFEST));
    const v = one('cis-1.1.1', s);
    expect(v).toMatchObject({ status: 'skip', resource: { kind: 'file', path: MANIFEST } });
    expect(v.evidence.detail).toContain('no kube-apiserver manifest found');
    expect(v.evidence.detail).toContain(MANIFEST);
  });

  it('skips kube-proxy kubeconfig checks with a clear detail when none is found, and fails on a loose one', () => {
    const s = withComponent(emptySnapshot(), 'kube-proxy');
    expect(one('cis-4.1.3', s)).toMatchObject({ status: 'skip', resource: { kind: 'component', component: 'kube-proxy' } });
    expect(one('cis-4.1.3', s).evidence.detail).toContain('no kube-proxy kubeconfig found');
    withFiles(s, 'kube-proxy.kubeconfig', file('/var/lib/kube-proxy/kubeconfig.conf', 0o644));
    expect(one('cis-4.1.3', s).status).toBe('fail');
    expect(one('cis-4.1.4', s).status).toBe('pass');
  });

  it('skips the component file checks when the component does not run, even if a file is listed', () => {
    const s = withFiles(emptySnapshot(), 'apiserver.manifest', file(MANIFEST, 0o644));
    expect(one('cis-1.1.1', s)).toEqual({
      status: 'skip',
      resource: { kind: 'component', component: 'kube-apiserver' },
      evidence: { source: 'discovery', detail: 'kube-apiserver does not run on this node' },
    });
  });

  it('judges CNI files only where a kubelet runs', () => {
    const s = emptySnapshot();
    s.cni.files = [file('/etc/cni/net.d/10-calico.conflist', 0o644), file('/var/lib/cni/networks/k8s-pod-network/10.0.0.5', 0o600)];
    expect(one('cis-1.1.9', s).status).toBe('skip');
    withKubelet(s);
    expect(run('cis-1.1.9', s).map((v) => v.status)).toEqual(['fail', 'pass']);
    expect(run('cis-1.1.10', s).map((v) => v.status)).toEqual(['pass', 'pass']);
    s.cni.files = [];
    expect(one('cis-1.1.9', s)).toMatchObject({ status: 'skip', evidence: { detail: 'no CNI configuration or state files found' } });
  });

  it('judges the whole PKI tree for ownership, and keys against 600', () => {
    const s = emptySnapshot();
    withFiles(s, 'pki.tree', file('/etc/kubernetes/pki', 0o755, { type: 'dir' }), file('/etc/kubernetes/pki/sa.key', 0o600, { uid: 1000, gid: 0 }));
    expect(run('cis-1.1.19', s).map((v) => v.status)).toEqual(['pass', 'fail']);
    withFiles(s, 'pki.key', file('/etc/kubernetes/pki/sa.key', 0o640), file('/etc/kubernetes/pki/ca.key', 0o400));
    expect(run('cis-1.1.21', s).map((v) => v.status)).toEqual(['fail', 'pass']);
  });

  it('skips the kubelet client CA checks when the kubelet has no client CA file', () => {
    const s = withKubelet(emptySnapshot());
    expect(one('cis-4.1.7', s).evidence.detail).toContain('no client CA file configured');
    withFiles(s, 'kubelet.client-ca', file('/etc/kubernetes/pki/ca.crt', 0o644));
    expect(one('cis-4.1.7', s).status).toBe('pass');
    withFiles(s, 'kubelet.client-ca', file('/etc/kubernetes/pki/ca.crt', 0o646));
    expect(one('cis-4.1.7', s).status).toBe('fail');
  });
});
