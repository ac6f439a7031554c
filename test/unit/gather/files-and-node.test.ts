// File facts (mode, owner resolved through the host's own passwd/group) and node inventory, through gather.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherSnapshot } from '../../../agent/gather/index.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { INSECURE_ENCRYPTION_CONFIG_PATH, INSECURE_NODE_NAME, insecureNode, UBUNTU_UID } from '../../fixtures/hosts/insecure-node.js';
import { CONTROL_PLANE_NODE } from '../../fixtures/hosts/pki.js';

describe('file facts on the kubeadm control plane', () => {
  let host: BuiltHost;
  let s: Snapshot;
  beforeAll(async () => {
    host = buildHost(kubeadmControlPlane());
    s = await gatherSnapshot({ hostRoot: host.hostRoot, procRoot: host.procRoot });
  });
  afterAll(() => host?.cleanup());

  it('finds each role at kubeadm paths with stat facts and owner names', () => {
    const only = (role: keyof Snapshot['files']) => s.files[role]?.map((f) => f.path);
    expect(only('apiserver.manifest')).toEqual(['/etc/kubernetes/manifests/kube-apiserver.yaml']);
    expect(only('etcd.data-dir')).toEqual(['/var/lib/etcd']);
    expect(only('admin.kubeconfig')?.sort()).toEqual(['/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf']);
    expect(only('kubelet.config')).toEqual(['/var/lib/kubelet/config.yaml']);
    expect(only('kubelet.kubeconfig')).toEqual(['/etc/kubernetes/kubelet.conf']);
    expect(only('kubelet.client-ca')).toEqual(['/etc/kubernetes/pki/ca.crt']);
    expect(only('kubelet.service')).toContain('/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf');
    expect(s.files['kubelet.config']![0]).toMatchObject({
      exists: true, type: 'file', mode: 0o644, uid: 0, gid: 0, user: 'root', group: 'root',
    });
    expect(s.files['etcd.data-dir']![0]).toMatchObject({ type: 'dir', mode: 0o700, user: 'root' });
  });

  it('lists the whole pki tree: certs, keys, sa.pub and the etcd subdir', () => {
    const tree = s.files['pki.tree']!.map((f) => f.path);
    expect(tree).toContain('/etc/kubernetes/pki');
    expect(tree).toContain('/etc/kubernetes/pki/etcd');
    expect(tree).toContain('/etc/kubernetes/pki/sa.pub');
    const keys = s.files['pki.key']!.map((f) => f.path);
    expect(keys).toContain('/etc/kubernetes/pki/etcd/peer.key');
    expect(keys).not.toContain('/etc/kubernetes/pki/ca.crt');
    expect(s.files['pki.cert']!.map((f) => f.path)).toContain('/etc/kubernetes/pki/front-proxy-ca.crt');
  });

  it('parses the real generated certificates', () => {
    const ca = s.certificates.find((c) => c.path === '/etc/kubernetes/pki/ca.crt');
    expect(ca).toMatchObject({ isCA: true });
    expect(ca?.subject).toContain('kubernetes');
    const api = s.certificates.find((c) => c.path === '/etc/kubernetes/pki/apiserver.crt');
    expect(api?.sans.join(',')).toContain('kubernetes.default.svc.cluster.local');
  });

  it('inventories the node from the host root', () => {
    expect(s.node.name).toBe(CONTROL_PLANE_NODE);
    expect(s.node.os).toBe('Ubuntu 22.04.4 LTS');
    expect(s.node.roles).toContain('control-plane');
    expect(typeof s.node.kernel).toBe('string');
    expect(s.node.architecture).toBeTruthy();
  });
});

describe('file facts on the insecure node', () => {
  let host: BuiltHost;
  let s: Snapshot;
  beforeAll(async () => {
    host = buildHost(insecureNode());
    s = await gatherSnapshot({ hostRoot: host.hostRoot, procRoot: host.procRoot, nodeName: 'override-1' });
  });
  afterAll(() => host?.cleanup());

  it("resolves owners through the host's /etc/passwd and /etc/group, not the agent's", () => {
    expect(s.files['apiserver.manifest']![0]).toMatchObject({ uid: UBUNTU_UID, user: 'ubuntu', mode: 0o644 });
    expect(s.files['controller-manager.kubeconfig']![0]).toMatchObject({ uid: 0, user: 'root', gid: UBUNTU_UID, group: 'ubuntu', mode: 0o640 });
  });

  it('finds the drop-in under /etc/systemd and the encryption config from the apiserver flag', () => {
    expect(s.files['kubelet.service']!.map((f) => f.path)).toContain('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf');
    expect(s.encryptionConfig).toMatchObject({ path: INSECURE_ENCRYPTION_CONFIG_PATH });
    expect(s.encryptionConfig!.resources).toEqual([{ resources: ['secrets'], providers: ['identity', 'aescbc'] }]);
  });

  it('takes --node-name over the hostname and the kubelet --hostname-override', () => {
    expect(s.node.name).toBe('override-1');
    expect(INSECURE_NODE_NAME).not.toBe('override-1');
  });
});

describe('uid and gid unknown to the host', () => {
  it('reports the numeric id as the name', async () => {
    const host = buildHost({
      files: {
        '/etc/kubernetes/manifests/kube-scheduler.yaml': { content: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-scheduler\nspec:\n  containers:\n  - command:\n    - kube-scheduler\n    - --profiling=false\n    name: kube-scheduler\n', mode: 0o600, uid: 4242, gid: 4343 },
      },
    });
    try {
      const s = await gatherSnapshot({ hostRoot: host.hostRoot, procRoot: host.procRoot });
      expect(s.components['kube-scheduler']).toMatchObject({ source: 'manifest' });
      expect(s.files['scheduler.manifest']![0]).toMatchObject({ uid: 4242, user: '4242', gid: 4343, group: '4343' });
    } finally {
      host.cleanup();
    }
  });
});
