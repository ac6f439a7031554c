import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../agent/gather/host.js';
import { gatherKubeletConfig } from '../../agent/gather/kubelet-config.js';
import { parseFlags } from '../../agent/gather/flags.js';
import { gatherFiles } from '../../agent/gather/files.js';
import type { DiscoveredComponent as ComponentFact } from '../../agent/facts/snapshot.js';
import { buildHost, type BuiltHost, type HostSpec } from '../fixtures/build.js';

let built: BuiltHost | undefined;
afterEach(() => built?.cleanup());

function effective(args: string[], files: HostSpec['files'] = {}) {
  built = buildHost({ files });
  const kubelet: ComponentFact = { name: 'kubelet', source: 'process', pid: 1, argv: ['kubelet', ...args], flags: parseFlags(args), env: {} };
  return gatherKubeletConfig(new HostAccess(built), kubelet);
}

const CONFIG = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
readOnlyPort: 0
staticPodPath: /etc/kubernetes/manifests
tlsCipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
`;

describe('kubelet effective configuration', () => {
  it('reads the --config file the kubelet was started with, not the default path', () => {
    const k = effective(['--config=/etc/custom/kubelet.yaml'], {
      '/etc/custom/kubelet.yaml': CONFIG,
      '/var/lib/kubelet/config.yaml': 'authentication: {anonymous: {enabled: true}}\n',
    });
    expect(k.settings['authentication.anonymous.enabled']).toMatchObject({ value: false, source: 'config-file', path: '/etc/custom/kubelet.yaml' });
    expect(k.settings.tlsCipherSuites.value).toEqual(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']);
    expect(k.staticPodPath).toBe('/etc/kubernetes/manifests');
  });

  it('lets a flag override the config file, and normalises its type', () => {
    const k = effective(['--config', '/var/lib/kubelet/config.yaml', '--read-only-port=10255', '--anonymous-auth=true'], { '/var/lib/kubelet/config.yaml': CONFIG });
    expect(k.settings.readOnlyPort).toMatchObject({ value: 10255, source: 'flag' });
    expect(k.settings['authentication.anonymous.enabled']).toMatchObject({ value: true, source: 'flag' });
  });

  it('merges --config-dir drop-ins in name order over the config file', () => {
    const k = effective(['--config=/var/lib/kubelet/config.yaml', '--config-dir=/etc/kubernetes/kubelet.conf.d'], {
      '/var/lib/kubelet/config.yaml': CONFIG,
      '/etc/kubernetes/kubelet.conf.d/20-late.conf': 'readOnlyPort: 10255\n',
      '/etc/kubernetes/kubelet.conf.d/10-early.conf': 'readOnlyPort: 12345\nauthorization: {mode: AlwaysAllow}\n',
      '/etc/kubernetes/kubelet.conf.d/ignored.yaml': 'readOnlyPort: 1\n',
    });
    expect(k.dropIns).toEqual(['/etc/kubernetes/kubelet.conf.d/10-early.conf', '/etc/kubernetes/kubelet.conf.d/20-late.conf']);
    expect(k.settings.readOnlyPort).toMatchObject({ value: 10255, source: 'config-dir', path: '/etc/kubernetes/kubelet.conf.d/20-late.conf' });
    expect(k.settings['authorization.mode']).toMatchObject({ value: 'AlwaysAllow', source: 'config-dir' });
    expect(k.settings['authentication.anonymous.enabled']).toMatchObject({ value: false, source: 'config-file' });
  });

  it('applies the legacy defaults to a flags-only kubelet', () => {
    const k = effective(['--kubeconfig=/etc/kubernetes/kubelet.conf'], { '/var/lib/kubelet/config.yaml': CONFIG });
    expect(k.configPath).toBeUndefined();
    expect(k.settings['authentication.anonymous.enabled']).toMatchObject({ value: true, source: 'default' });
    expect(k.settings['authorization.mode']).toMatchObject({ value: 'AlwaysAllow', source: 'default' });
    expect(k.settings.readOnlyPort).toMatchObject({ value: 10255, source: 'default' });
    expect(k.settings.readOnlyPort.note).toMatch(/version/);
  });

  it('applies config-file defaults when the file leaves a setting out', () => {
    const k = effective(['--config=/c.yaml'], { '/c.yaml': 'kind: KubeletConfiguration\n' });
    expect(k.settings['authentication.anonymous.enabled']).toMatchObject({ value: false, source: 'default' });
    expect(k.settings.readOnlyPort).toMatchObject({ value: 0, source: 'default' });
    expect(k.settings['authentication.x509.clientCAFile']).toMatchObject({ value: undefined, source: 'unset' });
  });

  it('treats a zero idle timeout from a config file as the kubelet does: defaulted to 4h; only a flag sets 0', () => {
    const fromFile = effective(['--config=/c.yaml'], { '/c.yaml': 'streamingConnectionIdleTimeout: 0s\n' }).settings.streamingConnectionIdleTimeout;
    expect(fromFile).toMatchObject({ value: '4h0m0s', source: 'config-file', path: '/c.yaml' });
    expect(fromFile.note).toMatch(/0s/);
    expect(effective(['--config=/c.yaml'], { '/c.yaml': 'streamingConnectionIdleTimeout: 5m\n' }).settings.streamingConnectionIdleTimeout.value).toBe('5m');
    expect(effective(['--streaming-connection-idle-timeout=0']).settings.streamingConnectionIdleTimeout).toMatchObject({ value: '0', source: 'flag' });
  });

  it('resolves relative paths of the config file against its dir, as the kubelet does', () => {
    const k = effective(['--config=/var/lib/kubelet/config.yaml'], {
      '/var/lib/kubelet/config.yaml': 'authentication: {x509: {clientCAFile: pki/ca.crt}}\ntlsCertFile: pki/kubelet.crt\nstaticPodPath: manifests\n',
      '/var/lib/kubelet/pki/ca.crt': { content: 'ca', mode: 0o666 },
    });
    expect(k.settings['authentication.x509.clientCAFile']).toMatchObject({ value: '/var/lib/kubelet/pki/ca.crt', source: 'config-file' });
    expect(k.settings['authentication.x509.clientCAFile'].note).toMatch(/pki\/ca\.crt/);
    expect(k.settings.tlsCertFile.value).toBe('/var/lib/kubelet/pki/kubelet.crt');
    expect(k.staticPodPath).toBe('/var/lib/kubelet/manifests');
    const kubelet: ComponentFact = { name: 'kubelet', source: 'process', pid: 1, argv: ['kubelet'], flags: {}, env: {} };
    const files = gatherFiles(new HostAccess(built!), { kubelet }, k);
    expect(files['kubelet.client-ca']).toEqual([expect.objectContaining({ path: '/var/lib/kubelet/pki/ca.crt', exists: true, mode: 0o666 })]);
    // A flag is taken as given (the kubelet's working dir is /).
    expect(effective(['--config=/var/lib/kubelet/config.yaml', '--client-ca-file=ca.crt'], { '/var/lib/kubelet/config.yaml': '{}' })
      .settings['authentication.x509.clientCAFile']).toMatchObject({ value: 'ca.crt', source: 'flag' });
  });

  it('reads feature gates from the flag and from the config', () => {
    expect(effective(['--feature-gates=RotateKubeletServerCertificate=false']).settings['featureGates.RotateKubeletServerCertificate'])
      .toMatchObject({ value: false, source: 'flag' });
    expect(effective(['--config=/c.yaml'], { '/c.yaml': 'featureGates: {RotateKubeletServerCertificate: true}\n' })
      .settings['featureGates.RotateKubeletServerCertificate']).toMatchObject({ value: true, source: 'config-file' });
  });

  it('turns invalid YAML, oversized and looping config files into errors', () => {
    expect(effective(['--config=/bad.yaml'], { '/bad.yaml': 'a: [unclosed\n' }).errors[0]).toMatchObject({ path: '/bad.yaml', code: 'EINVAL' });
    expect(effective(['--config=/big.yaml'], { '/big.yaml': { size: 50 * 1024 * 1024 } }).errors[0].code).toBe('EFBIG');
    expect(effective(['--config=/l1'], { '/l1': { symlink: '/l2' }, '/l2': { symlink: '/l1' } }).errors[0].code).toBe('ELOOP');
  });
});
