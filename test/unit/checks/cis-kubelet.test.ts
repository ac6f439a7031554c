// Kubelet setting checks (CIS 4.2.x + protectKernelDefaults): effective values, precedence, kubelet kinds.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { KUBELET_CONFIG_PATH, emptySnapshot, setKubelet, withKubelet } from './snapshot-factory.js';
import { one } from './cis-profiles.js';

const configKubelet = (values: Record<string, unknown> = {}): Snapshot => setKubelet(withKubelet(emptySnapshot(), 'config'), values);
const flagsKubelet = (values: Record<string, unknown> = {}): Snapshot => setKubelet(withKubelet(emptySnapshot(), 'flags-only'), values, 'flag');

describe('precedence and evidence', () => {
  it('reports a value from a flag', () => {
    const s = setKubelet(withKubelet(emptySnapshot(), 'config'), { readOnlyPort: 10255 }, 'flag');
    expect(one('cis-4.2.4', s)).toMatchObject({
      status: 'fail',
      evidence: { source: 'flag', key: 'readOnlyPort', value: 10255, expected: '0 (disabled)', flag: '--read-only-port' },
    });
    expect(one('cis-4.2.4', s).evidence.path).toBeUndefined();
  });

  it('reports a value from the config file with its path', () => {
    const v = one('cis-4.2.4', configKubelet({ readOnlyPort: 0 }));
    expect(v).toMatchObject({ status: 'pass', evidence: { source: 'config-file', path: KUBELET_CONFIG_PATH, value: 0 } });
  });

  it('reports a value from a config drop-in', () => {
    const s = setKubelet(withKubelet(emptySnapshot(), 'config'), { readOnlyPort: 10255 }, 'config-dir', '/etc/kubernetes/kubelet.conf.d/50-ro.conf');
    expect(one('cis-4.2.4', s).evidence).toMatchObject({ source: 'config-dir', path: '/etc/kubernetes/kubelet.conf.d/50-ro.conf' });
  });

  it('reports defaults, with the version note, and judges them per kind of kubelet', () => {
    expect(one('cis-4.2.4', configKubelet())).toMatchObject({ status: 'pass', evidence: { source: 'default', value: 0 } });
    const flagsOnly = one('cis-4.2.4', flagsKubelet());
    expect(flagsOnly).toMatchObject({ status: 'fail', evidence: { source: 'default', value: 10255 } });
    expect(flagsOnly.evidence.detail).toContain('version-dependent');
  });

  it('judges anonymous auth and authorization mode on the kind-specific defaults', () => {
    expect(one('cis-4.2.1', configKubelet()).status).toBe('pass');
    expect(one('cis-4.2.2', configKubelet()).status).toBe('pass');
    expect(one('cis-4.2.1', flagsKubelet())).toMatchObject({ status: 'fail', severity: 'critical' });
    expect(one('cis-4.2.2', flagsKubelet()).status).toBe('fail');
    const anonymousWebhook = one('cis-4.2.1', configKubelet({ 'authentication.anonymous.enabled': true }));
    expect(anonymousWebhook.status).toBe('fail');
    expect(anonymousWebhook.severity).toBeUndefined();
  });
});

describe('unknown or unreadable kubelet facts', () => {
  it('errors when the config file could not be read, except for values set by flag', () => {
    const s = withKubelet(emptySnapshot(), 'config');
    s.kubelet!.configLoaded = false;
    const v = one('cis-4.2.4', s);
    expect(v.status).toBe('error');
    expect(v.evidence.detail).toContain(KUBELET_CONFIG_PATH);
    setKubelet(s, { readOnlyPort: 0 }, 'flag');
    expect(one('cis-4.2.4', s).status).toBe('pass');
  });

  it('errors when the kubelet configuration was not gathered', () => {
    const s = withKubelet(emptySnapshot());
    s.kubelet = undefined;
    expect(one('cis-4.2.1', s).status).toBe('error');
    const t = withKubelet(emptySnapshot());
    delete t.kubelet!.settings.seccompDefault;
    expect(one('cis-4.2.14', t)).toMatchObject({ status: 'error', evidence: { key: 'seccompDefault' } });
  });

  it('skips every kubelet setting check when no kubelet runs', () => {
    const v = one('cis-4.2.1', emptySnapshot());
    expect(v).toEqual({
      status: 'skip',
      resource: { kind: 'component', component: 'kubelet' },
      evidence: { source: 'discovery', detail: 'kubelet does not run on this node' },
    });
  });
});

describe('individual settings', () => {
  it('4.2.2 rejects AlwaysAllow; an empty mode in the config file is the Webhook default', () => {
    expect(one('cis-4.2.2', configKubelet({ 'authorization.mode': 'AlwaysAllow' })).status).toBe('fail');
    expect(one('cis-4.2.2', configKubelet({ 'authorization.mode': 'Webhook' })).status).toBe('pass');
    expect(one('cis-4.2.2', configKubelet({ 'authorization.mode': '' }))).toMatchObject({ status: 'pass', evidence: { value: 'Webhook' } });
    expect(one('cis-4.2.2', flagsKubelet({ 'authorization.mode': '' })).status).toBe('fail');
  });

  it('4.2.3 needs a client CA file', () => {
    expect(one('cis-4.2.3', configKubelet()).status).toBe('fail');
    expect(one('cis-4.2.3', configKubelet({ 'authentication.x509.clientCAFile': '/etc/kubernetes/pki/ca.crt' })).status).toBe('pass');
  });

  it.each([
    ['4h0m0s', 'pass'], ['5m', 'pass'], ['1h30m', 'pass'], ['300ms', 'pass'],
    ['0', 'fail'], ['0s', 'fail'], ['0h0m0s', 'fail'], ['forever', 'fail'],
  ])('4.2.5 streaming idle timeout flag %s → %s', (value, status) => {
    expect(one('cis-4.2.5', flagsKubelet({ streamingConnectionIdleTimeout: value })).status).toBe(status);
  });

  it('4.2.5 a zero duration in the config file is the 4h default, not "no timeout"', () => {
    const v = one('cis-4.2.5', configKubelet({ streamingConnectionIdleTimeout: '0s' }));
    expect(v).toMatchObject({ status: 'pass', evidence: { source: 'config-file', value: '4h0m0s', configured: '0s' } });
    expect(one('cis-4.2.5', configKubelet({ streamingConnectionIdleTimeout: '30m' })).status).toBe('pass');
    expect(one('cis-4.2.5', configKubelet({ streamingConnectionIdleTimeout: 'soon' })).status).toBe('fail');
  });

  it('4.2.6 iptables util chains', () => {
    expect(one('cis-4.2.6', configKubelet()).status).toBe('pass');
    expect(one('cis-4.2.6', configKubelet({ makeIPTablesUtilChains: false })).status).toBe('fail');
  });

  it('4.2.7 hostname override', () => {
    expect(one('cis-4.2.7', configKubelet()).status).toBe('pass');
    expect(one('cis-4.2.7', flagsKubelet({ hostnameOverride: 'node-a' }))).toMatchObject({ status: 'fail', evidence: { source: 'flag', value: 'node-a' } });
  });

  it('4.2.8 event QPS at or above 0', () => {
    expect(one('cis-4.2.8', configKubelet()).status).toBe('pass');
    expect(one('cis-4.2.8', configKubelet({ eventRecordQPS: 0 })).status).toBe('pass');
    expect(one('cis-4.2.8', configKubelet({ eventRecordQPS: -5 })).status).toBe('fail');
  });

  it('4.2.9 serving cert: both files, or serverTLSBootstrap', () => {
    expect(one('cis-4.2.9', configKubelet()).status).toBe('fail');
    expect(one('cis-4.2.9', configKubelet({ tlsCertFile: '/a.crt' })).status).toBe('fail');
    expect(one('cis-4.2.9', configKubelet({ tlsCertFile: '/a.crt', tlsPrivateKeyFile: '/a.key' })).status).toBe('pass');
    const bootstrap = one('cis-4.2.9', configKubelet({ serverTLSBootstrap: true }));
    expect(bootstrap).toMatchObject({ status: 'pass', evidence: { source: 'config-file' } });
    expect(bootstrap.evidence.detail).toContain('serverTLSBootstrap');
  });

  it('4.2.10 client cert rotation: the default false fails', () => {
    expect(one('cis-4.2.10', configKubelet()).status).toBe('fail');
    expect(one('cis-4.2.10', configKubelet({ rotateCertificates: true })).status).toBe('pass');
  });

  it('4.2.11 server cert rotation: gate false fails, bootstrap on passes, gate on without bootstrap warns', () => {
    expect(one('cis-4.2.11', configKubelet({ 'featureGates.RotateKubeletServerCertificate': false, serverTLSBootstrap: true })).status).toBe('fail');
    expect(one('cis-4.2.11', configKubelet({ serverTLSBootstrap: true })).status).toBe('pass');
    expect(one('cis-4.2.11', configKubelet({ 'featureGates.RotateKubeletServerCertificate': true, serverTLSBootstrap: true })).status).toBe('pass');
    const warn = one('cis-4.2.11', configKubelet());
    expect(warn.status).toBe('warn');
    expect(warn.evidence.detail).toContain('never rotated');
  });

  it('4.2.12 cipher suites: every one must be strong, unset fails', () => {
    expect(one('cis-4.2.12', configKubelet()).status).toBe('fail');
    expect(one('cis-4.2.12', configKubelet({ tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'] })).status).toBe('pass');
    const v = one('cis-4.2.12', configKubelet({ tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_RSA_WITH_AES_256_CBC_SHA'] }));
    expect(v.status).toBe('fail');
    expect(v.evidence.detail).toContain('TLS_RSA_WITH_AES_256_CBC_SHA');
  });

  it('4.2.13 pod PID limit must be positive', () => {
    expect(one('cis-4.2.13', configKubelet()).status).toBe('fail');
    expect(one('cis-4.2.13', configKubelet({ podPidsLimit: 0 })).status).toBe('fail');
    expect(one('cis-4.2.13', configKubelet({ podPidsLimit: 1024 })).status).toBe('pass');
  });

  it('4.2.14 seccompDefault must be true, not merely set', () => {
    expect(one('cis-4.2.14', configKubelet({ seccompDefault: false })).status).toBe('fail');
    expect(one('cis-4.2.14', configKubelet({ seccompDefault: true })).status).toBe('pass');
  });

  it('protectKernelDefaults (no CIS id)', () => {
    expect(one('kubelet-protect-kernel-defaults', configKubelet()).status).toBe('fail');
    expect(one('kubelet-protect-kernel-defaults', configKubelet({ protectKernelDefaults: true })).status).toBe('pass');
  });
});
