import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../../agent/gather/host.js';
import { gatherCni } from '../../../agent/gather/cni/index.js';
import { networkPolicySupport } from '../../../agent/gather/cni/policy.js';
import { cniChecks } from '../../../agent/evaluate/checks/cni.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { FindingSchema } from '../../../proto/report.js';
import type { ComponentFact } from '../../../agent/facts/snapshot.js';
import { buildHost, type BuiltHost, type HostSpec } from '../../fixtures/build.js';
import { component, emptySnapshot } from '../sockets/snapshot.js';

const conflist = (name: string, ...plugins: object[]) => JSON.stringify({ cniVersion: '0.3.1', name, plugins });
const FLANNEL = conflist('cbr0', { type: 'flannel', delegate: { hairpinMode: true } }, { type: 'portmap', capabilities: { portMappings: true } });
const CANAL = conflist('k8s-pod-network', { type: 'calico', ipam: { type: 'host-local' } }, { type: 'portmap' }, { type: 'bandwidth' });

let built: BuiltHost | undefined;
afterEach(() => { built?.cleanup(); built = undefined; });

function gather(spec: HostSpec, components: Record<string, ComponentFact> = {}) {
  built = buildHost(spec);
  return gatherCni(new HostAccess(built), components, undefined);
}

describe('gatherCni', () => {
  it('takes the lexically first loadable config as the active one and lists conf and state files', () => {
    const cni = gather({
      files: {
        '/etc/cni/net.d/10-canal.conflist': { content: CANAL, mode: 0o600 },
        '/etc/cni/net.d/20-flannel.conflist': { content: FLANNEL, mode: 0o644 },
        '/etc/cni/net.d/05-broken.conf': '{"name": "x", "args": ["--etcd-password=hunter2-very-secret",]}',
        '/etc/cni/net.d/README': 'ignored',
        '/var/lib/cni/networks/k8s-pod-network/10.244.0.5': { content: 'abc', mode: 0o644 },
        '/var/lib/cni/networks/k8s-pod-network/lock': '',
      },
    });
    expect(cni).toMatchObject({
      confDir: '/etc/cni/net.d', confDirSource: 'default', activeConfig: '/etc/cni/net.d/10-canal.conflist',
      networkName: 'k8s-pod-network', plugins: ['calico', 'portmap', 'bandwidth'], enforcesNetworkPolicy: true,
    });
    expect(cni.errors).toEqual([expect.objectContaining({ path: '/etc/cni/net.d/05-broken.conf', code: 'EINVAL' })]);
    // A config that does not parse is never quoted: it may hold credentials.
    expect(JSON.stringify(cni.errors)).not.toMatch(/hunter2|secret/);
    expect(cni.files.map((f) => [f.path, f.mode?.toString(8)])).toEqual([
      ['/etc/cni/net.d/05-broken.conf', '644'],
      ['/etc/cni/net.d/10-canal.conflist', '600'],
      ['/etc/cni/net.d/20-flannel.conflist', '644'],
      ['/etc/cni/net.d/README', '644'],
      ['/var/lib/cni/networks/k8s-pod-network/10.244.0.5', '644'],
      ['/var/lib/cni/networks/k8s-pod-network/lock', '644'],
    ]);
  });

  it('says Flannel alone does not enforce NetworkPolicy', () => {
    const cni = gather({ files: { '/etc/cni/net.d/10-flannel.conflist': FLANNEL } });
    expect(cni).toMatchObject({ plugins: ['flannel', 'portmap'], enforcesNetworkPolicy: false });
    expect(cni.policyReason).toMatch(/Flannel alone/);
  });

  it('reads the conf dir from the kubelet flag, then containerd config', () => {
    const viaKubelet = gather(
      { files: { '/opt/cni/conf/1.conf': JSON.stringify({ name: 'n', type: 'bridge', bridge: 'cni0' }) } },
      { kubelet: component('kubelet', 1, ['kubelet', '--cni-conf-dir=/opt/cni/conf']) },
    );
    expect(viaKubelet).toMatchObject({ confDir: '/opt/cni/conf', confDirSource: 'kubelet', plugins: ['bridge'], enforcesNetworkPolicy: false });
    built?.cleanup();
    const viaContainerd = gather(
      {
        files: {
          '/etc/vigil/containerd.toml': [
            'version = 2', '[plugins]', '  [plugins."io.containerd.grpc.v1.cri"]', '    sandbox_image = "pause:3.9"',
            '    [plugins."io.containerd.grpc.v1.cri".cni]', '      bin_dir = "/usr/lib/cni"', '      conf_dir = "/run/cni-conf"', '',
          ].join('\n'),
          '/run/cni-conf/00.conflist': conflist('cilium', { type: 'cilium-cni' }),
        },
      },
      { containerd: component('containerd', 2, ['containerd', '--config=/etc/vigil/containerd.toml']) },
    );
    expect(viaContainerd).toMatchObject({ confDir: '/run/cni-conf', confDirSource: 'containerd', plugins: ['cilium-cni'], enforcesNetworkPolicy: true });
  });

  it('survives a missing conf dir and hostile configs', () => {
    expect(gather({})).toMatchObject({ confDir: '/etc/cni/net.d', plugins: [], files: [], errors: [] });
    built?.cleanup();
    const cni = gather({ files: { '/etc/cni/net.d/1.conf': '[]', '/etc/cni/net.d/2.conf': '{"plugins":[1,null,"x"]}', '/etc/cni/net.d/3.conf': { size: 5 * 1024 * 1024 } } });
    expect(cni.activeConfig).toBeUndefined();
    expect(cni.errors.map((e) => e.code)).toEqual(['EINVAL', 'EINVAL', 'EFBIG']);
  });
});

describe('networkPolicySupport', () => {
  it('knows the enforcing plugins, Flannel alone, k3s and unknown plugins', () => {
    expect(networkPolicySupport(['flannel', 'calico']).enforces).toBe(true);
    expect(networkPolicySupport(['antrea']).enforces).toBe(true);
    expect(networkPolicySupport(['weave-net']).enforces).toBe(true);
    expect(networkPolicySupport(['bridge'], { kubeRouterBridge: true }).enforces).toBe(true);
    expect(networkPolicySupport(['flannel'], { distribution: 'k3s' }).enforces).toBe(true);
    expect(networkPolicySupport(['flannel'], { distribution: 'k3s', k3sPolicyDisabled: true }).enforces).toBe(false);
    expect(networkPolicySupport(['aws-cni', 'portmap'])).toEqual({ reason: expect.stringMatching(/aws-cni/) });
  });
});

describe('cni-network-policy (CIS 5.3.1)', () => {
  const run = (cni: Parameters<typeof emptySnapshot>[0]) => {
    const findings = evaluate(emptySnapshot(cni), cniChecks);
    findings.forEach((f) => FindingSchema.parse(f));
    return findings;
  };
  it('passes an enforcing CNI, fails Flannel alone, warns on unknown or missing config', () => {
    const base = { files: [], errors: [], confDir: '/etc/cni/net.d' };
    expect(run({ cni: { ...base, activeConfig: '/etc/cni/net.d/10-calico.conflist', plugins: ['calico'], enforcesNetworkPolicy: true } })[0])
      .toMatchObject({ status: 'pass', cis: '5.3.1', resource: { kind: 'file', path: '/etc/cni/net.d/10-calico.conflist' } });
    const flannel = run({ cni: { ...base, activeConfig: '/etc/cni/net.d/10-flannel.conflist', plugins: ['flannel'], enforcesNetworkPolicy: false, policyReason: 'Flannel alone does not enforce NetworkPolicy' } })[0];
    expect(flannel).toMatchObject({ status: 'fail', severity: 'medium' });
    expect(flannel.evidence.detail).toMatch(/Flannel alone/);
    expect(run({ cni: { ...base, activeConfig: '/x.conf', plugins: ['aws-cni'] } })[0]).toMatchObject({ status: 'warn', severity: 'low' });
    expect(run({ cni: { ...base, plugins: [] } })[0].status).toBe('skip');
    expect(run({ cni: { ...base, plugins: [] }, components: { kubelet: component('kubelet', 1, ['kubelet']) } })[0].status).toBe('warn');
  });
});
