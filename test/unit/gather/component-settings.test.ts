// Effective settings of the control-plane components, etcd and kube-proxy: what the checks read instead of argv.
import { describe, expect, it } from 'vitest';
import { componentSettings } from '../../../agent/gather/component-settings.js';
import { parseFlags } from '../../../agent/gather/flags.js';
import type { ComponentName, DiscoveredComponent, KubeProxyConfigFact } from '../../../agent/facts/snapshot.js';

function settings(name: ComponentName, args: string[], env: Record<string, string> = {}, config?: KubeProxyConfigFact) {
  const c: DiscoveredComponent = { name, source: 'process', pid: 7, argv: [name, ...args], flags: parseFlags(args), env };
  return componentSettings(c, config);
}

describe('component settings', () => {
  it('takes the last value of a flag, else the component default, else unset', () => {
    const s = settings('kube-apiserver', ['--profiling=true', '--profiling=false']);
    expect(s.profiling).toEqual({ key: 'profiling', flag: 'profiling', value: 'false', source: 'flag' });
    expect(s['anonymous-auth']).toEqual({ key: 'anonymous-auth', flag: 'anonymous-auth', value: 'true', source: 'default' });
    expect(s['token-auth-file']).toEqual({ key: 'token-auth-file', flag: 'token-auth-file', value: undefined, source: 'unset' });
  });

  it('reads comma-list flags as pflag does (repeats appended) and feature gates as a map (last wins)', () => {
    expect(settings('kube-apiserver', ['--authorization-mode=Node', '--authorization-mode=RBAC,'])['authorization-mode'])
      .toMatchObject({ value: ['Node', 'RBAC'], source: 'flag' });
    expect(settings('kube-apiserver', [])['authorization-mode']).toMatchObject({ value: ['AlwaysAllow'], source: 'default' });
    expect(settings('kube-controller-manager', ['--feature-gates=A=true,B=false', '--feature-gates=A=false'])['feature-gates'])
      .toMatchObject({ value: { A: 'false', B: 'false' }, source: 'flag' });
  });

  it('etcd: the flag over its ETCD_* variable over the default, naming the variable', () => {
    const s = settings('etcd', ['--cert-file=/flag.crt'], { ETCD_CERT_FILE: '/env.crt', ETCD_CLIENT_CERT_AUTH: 'true' });
    expect(s['cert-file']).toMatchObject({ value: '/flag.crt', source: 'flag', env: 'ETCD_CERT_FILE' });
    expect(s['client-cert-auth']).toMatchObject({ value: 'true', source: 'env', env: 'ETCD_CLIENT_CERT_AUTH' });
    expect(s['auto-tls']).toMatchObject({ value: 'false', source: 'default' });
  });

  it('kube-proxy: the --config file over the flag it then ignores, over the default', () => {
    const path = '/var/lib/kube-proxy/config.conf';
    expect(settings('kube-proxy', ['--metrics-bind-address=0.0.0.0:10249']).metricsBindAddress)
      .toMatchObject({ value: '0.0.0.0:10249', source: 'flag' });
    expect(settings('kube-proxy', []).metricsBindAddress).toMatchObject({ value: '127.0.0.1:10249', source: 'default' });
    const fromFile = settings('kube-proxy', [`--config=${path}`, '--metrics-bind-address=127.0.0.1:10249'], {}, { path, metricsBindAddress: '0.0.0.0:10249' });
    expect(fromFile.metricsBindAddress).toMatchObject({ value: '0.0.0.0:10249', source: 'config-file', path });
    expect(fromFile.metricsBindAddress.note).toMatch(/ignored because --config is set/);
    expect(settings('kube-proxy', [`--config=${path}`], {}, { path }).metricsBindAddress)
      .toMatchObject({ value: '127.0.0.1:10249', source: 'default', path });
  });

  it('resolves nothing for the kubelet: its settings come with its config files (Snapshot.kubelet)', () => {
    expect(settings('kubelet', ['--anonymous-auth=false'])).toEqual({});
  });
});
