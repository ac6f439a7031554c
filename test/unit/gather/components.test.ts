// Component discovery through the gather contract (agent/snapshot.ts), on fixture hosts.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatherSnapshot } from '../../../agent/gather/index.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { buildHost, type BuiltHost, type FileSpec, type HostSpec } from '../../fixtures/build.js';
import { kubeadmControlPlaneFiles, KUBEADM_PIDS } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { CONTAINERD_ARGV, etcdManifest, kubeadmEtcdFlags, kubeadmKubeletArgv, proc, UBUNTU_OS_RELEASE } from '../../fixtures/hosts/kubeadm.js';
import { scanNode } from '../../../agent/scan.js';
import { fixturePki, pem } from '../../fixtures/hosts/pki.js';

// Real PKI generation takes seconds on a cold cache: do it under the hook timeout, not a test's.
beforeAll(() => { fixturePki(); });
let host: BuiltHost | undefined;
afterEach(() => { host?.cleanup(); host = undefined; });
async function gather(spec: HostSpec): Promise<Snapshot> {
  host = buildHost(spec);
  return gatherSnapshot({ hostRoot: host.hostRoot, procRoot: host.procRoot });
}

describe('control plane seen only through static pod manifests', () => {
  // kubelet and containerd run, but the control-plane containers are not visible (not started yet, or in
  // another pid namespace): their flags come from the manifests.
  const spec = (): HostSpec => ({
    files: kubeadmControlPlaneFiles(),
    procs: [proc(KUBEADM_PIDS.containerd, CONTAINERD_ARGV), proc(KUBEADM_PIDS.kubelet, kubeadmKubeletArgv())],
  });

  it('finds each control-plane component from its manifest, with the manifest path and flags', async () => {
    const s = await gather(spec());
    for (const name of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'] as const) {
      expect(s.components[name], name).toMatchObject({ source: 'manifest', path: `/etc/kubernetes/manifests/${name}.yaml` });
      expect(s.components[name]?.pid, name).toBeUndefined();
    }
    expect(s.components['kube-apiserver']!.flags['authorization-mode']).toEqual(['Node,RBAC']);
    expect(s.components.etcd!.flags['data-dir']).toEqual(['/var/lib/etcd']);
    expect(s.components.etcd!.version).toMatch(/3\.5\.12/);
  });

  it('judges the control plane on the manifest flags', async () => {
    host = buildHost(spec());
    const { report } = await scanNode({ hostRoot: host.hostRoot, procRoot: host.procRoot, only: ['1.2.6', '1.2.15', '1.1.12'] });
    const status = (cis: string) => report.findings.filter((f) => f.cis === cis).map((f) => f.status);
    expect(status('1.2.6')).toEqual(['pass']);
    expect(status('1.2.15')).toEqual(['fail']);
    expect(status('1.1.12')).toEqual(['fail']); // data dir still found from the manifest's --data-dir
  });
});

describe('static pods in the kubelet staticPodPath', () => {
  it('reads manifests from a non-default staticPodPath named in the kubelet config', async () => {
    const root = (content: string, mode = 0o600): FileSpec => ({ content, mode, uid: 0, gid: 0 });
    const s = await gather({
      files: {
        '/etc/os-release': UBUNTU_OS_RELEASE,
        '/etc/kubelet/config.yaml': root('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /etc/kubelet.d\n'),
        '/etc/kubelet.d/etcd.yaml': root(etcdManifest(kubeadmEtcdFlags())),
      },
      procs: [proc(100, ['/usr/bin/kubelet', '--config=/etc/kubelet/config.yaml'])],
    });
    expect(s.kubelet?.staticPodPath).toBe('/etc/kubelet.d');
    expect(s.components.etcd).toMatchObject({ source: 'manifest', path: '/etc/kubelet.d/etcd.yaml' });
  });
});

describe('an external etcd run by systemd with Go-flag-style arguments and ETCD_* variables', () => {
  const spec = (): HostSpec => ({
    files: {
      '/etc/os-release': UBUNTU_OS_RELEASE,
      '/srv/etcd': { dir: true, mode: 0o700, uid: 998, gid: 998 },
      '/etc/etcd/pki/server.crt': { content: pem('etcd/server.crt'), mode: 0o644 },
    },
    procs: [proc(700, [
      '/usr/local/bin/etcd', '-name', 'infra0', '-data-dir=/srv/etcd', '-cert-file', '/etc/etcd/pki/server.crt',
      '-key-file', '/etc/etcd/pki/server.key', '-client-cert-auth', '-listen-client-urls', 'https://10.0.0.5:2379',
    ], {
      env: {
        HOME: '/var/lib/etcd', LANG: 'C.UTF-8', ETCD_TRUSTED_CA_FILE: '/etc/etcd/pki/ca.crt', ETCD_PEER_AUTO_TLS: 'true',
        INVOCATION_ID: '5d1c8e8a4c6f4f0c9c1d2e3f4a5b6c7d',
      },
    })],
  });

  it('parses single-dash flags, bare booleans and keeps only ETCD_* variables', async () => {
    const s = await gather(spec());
    const etcd = s.components.etcd!;
    expect(etcd).toMatchObject({ source: 'process', pid: 700 });
    expect(etcd.flags['data-dir']).toEqual(['/srv/etcd']);
    expect(etcd.flags['cert-file']).toEqual(['/etc/etcd/pki/server.crt']);
    expect(etcd.flags['client-cert-auth']).toEqual(['true']);
    expect(etcd.env).toEqual({ ETCD_TRUSTED_CA_FILE: '/etc/etcd/pki/ca.crt', ETCD_PEER_AUTO_TLS: 'true' });
  });

  it('judges the data dir named by -data-dir and the env-only settings', async () => {
    host = buildHost(spec());
    const { report } = await scanNode({ hostRoot: host.hostRoot, procRoot: host.procRoot, only: ['1.1.11', '1.1.12', '2.2', '2.6', '2.7'] });
    const by = (cis: string) => report.findings.filter((f) => f.cis === cis);
    expect(by('1.1.11').map((f) => f.status)).toEqual(['pass']);
    expect(by('1.1.12').map((f) => f.status)).toEqual(['pass']);
    expect(JSON.stringify(by('1.1.12')[0]!.evidence)).toContain('/srv/etcd');
    expect(by('2.2').map((f) => f.status)).toEqual(['pass']);
    expect(by('2.6')[0]).toMatchObject({ status: 'fail', evidence: { source: 'env' } });
    expect(by('2.7').map((f) => f.status)).not.toContain('fail');
  });
});

describe('repeated flags and comma lists', () => {
  it('keeps repeats in order and reads the last scalar value', async () => {
    const s = await gather({
      files: { '/etc/os-release': UBUNTU_OS_RELEASE },
      procs: [proc(900, ['kube-apiserver', '--enable-admission-plugins=NodeRestriction', '--enable-admission-plugins=AlwaysPullImages,EventRateLimit',
        '--profiling=true', '--profiling=false', '--authorization-mode', 'Node,RBAC'])],
    });
    const api = s.components['kube-apiserver']!;
    expect(api.flags['enable-admission-plugins']).toEqual(['NodeRestriction', 'AlwaysPullImages,EventRateLimit']);
    expect(api.flags['profiling']).toEqual(['true', 'false']);
    expect(api.flags['authorization-mode']).toEqual(['Node,RBAC']);
    host!.cleanup();
    host = buildHost({ files: { '/etc/os-release': UBUNTU_OS_RELEASE }, procs: [proc(900, api.argv)] });
    const { report } = await scanNode({ hostRoot: host.hostRoot, procRoot: host.procRoot, only: ['1.2.15', '1.2.11', '1.2.9', '1.2.14'] });
    const status = (cis: string) => report.findings.filter((f) => f.cis === cis).map((f) => f.status);
    expect(status('1.2.15')).toEqual(['pass']); // last one wins, as in pflag
    expect(status('1.2.11')).toEqual(['pass']);
    expect(status('1.2.9')).toEqual(['pass']);
    expect(status('1.2.14')).toEqual(['pass']);
  });
});
