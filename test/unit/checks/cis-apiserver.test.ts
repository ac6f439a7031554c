// kube-apiserver checks (CIS 1.2.x): flag semantics, admission plugins, authorization, encryption at rest.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { emptySnapshot, withComponent } from './snapshot-factory.js';
import { one } from './cis-profiles.js';

const apiserver = (...args: string[]): Snapshot => withComponent(emptySnapshot(), 'kube-apiserver', args);
const status = (id: string, ...args: string[]) => one(id, apiserver(...args)).status;

describe('flag semantics', () => {
  it('takes the last value of a repeated scalar flag', () => {
    expect(status('cis-1.2.15', '--profiling=false', '--profiling=true')).toBe('fail');
    expect(status('cis-1.2.15', '--profiling=true', '--profiling=false')).toBe('pass');
  });

  it('reads booleans case-insensitively, with Go spellings, and a bare flag as true', () => {
    expect(status('cis-1.2.15', '--profiling=FALSE')).toBe('pass');
    expect(status('cis-1.2.15', '--profiling=0')).toBe('pass');
    expect(status('cis-1.2.15', '--profiling=f')).toBe('pass');
    expect(status('cis-1.2.15', '--profiling')).toBe('fail');
    expect(status('cis-1.2.15')).toBe('fail');
    expect(one('cis-1.2.15', apiserver()).evidence).toMatchObject({ source: 'default', key: '--profiling', value: 'true' });
  });

  it('appends repeated list flags', () => {
    expect(status('cis-1.2.8', '--authorization-mode=Node', '--authorization-mode=RBAC')).toBe('pass');
    expect(status('cis-1.2.6', '--authorization-mode=Node,RBAC', '--authorization-mode=AlwaysAllow')).toBe('fail');
  });

  it('says where the flags came from', () => {
    const s = withComponent(emptySnapshot(), 'kube-apiserver', ['--token-auth-file=/t.csv'], {
      source: 'manifest', pid: undefined, path: '/etc/kubernetes/manifests/kube-apiserver.yaml',
    });
    const v = one('cis-1.2.2', s);
    expect(v.status).toBe('fail');
    expect(v.resource).toEqual({ kind: 'component', component: 'kube-apiserver', source: 'manifest' });
    expect(v.evidence).toMatchObject({ source: 'flag', path: '/etc/kubernetes/manifests/kube-apiserver.yaml', value: '/t.csv', origin: 'manifest' });
  });
});

describe('authentication and authorization', () => {
  it('1.2.1 anonymous auth: explicit false passes, unset means true, --authentication-config warns', () => {
    expect(status('cis-1.2.1', '--anonymous-auth=false')).toBe('pass');
    expect(status('cis-1.2.1', '--anonymous-auth=true')).toBe('fail');
    expect(status('cis-1.2.1')).toBe('fail');
    expect(status('cis-1.2.1', '--authentication-config=/etc/kubernetes/authn.yaml')).toBe('warn');
  });

  it('1.2.6-1.2.8 authorization mode, its AlwaysAllow default and structured authorization config', () => {
    expect(status('cis-1.2.6', '--authorization-mode=Node,RBAC')).toBe('pass');
    expect(status('cis-1.2.6')).toBe('fail');
    expect(one('cis-1.2.6', apiserver()).evidence).toMatchObject({ value: ['AlwaysAllow'], source: 'default' });
    expect(status('cis-1.2.6', '--authorization-config=/etc/kubernetes/authz.yaml')).toBe('warn');
    expect(status('cis-1.2.7', '--authorization-mode=RBAC')).toBe('fail');
    expect(status('cis-1.2.8', '--authorization-mode=Node,Webhook')).toBe('fail');
    // Given but empty names no authorizer at all (the API server refuses to start with it): not "set, without AlwaysAllow".
    expect(status('cis-1.2.6', '--authorization-mode=')).toBe('fail');
    expect(one('cis-1.2.6', apiserver('--authorization-mode=')).evidence.detail).toMatch(/empty/);
  });

  it('1.2.4 needs both kubelet client flags', () => {
    const v = one('cis-1.2.4', apiserver('--kubelet-client-certificate=/c.crt'));
    expect(v.status).toBe('fail');
    expect(v.evidence.detail).toContain('not set: --kubelet-client-key');
    expect(status('cis-1.2.4', '--kubelet-client-certificate=/c.crt', '--kubelet-client-key=/c.key')).toBe('pass');
  });

  it('treats an empty value as not set', () => {
    expect(status('cis-1.2.25', '--client-ca-file=')).toBe('fail');
  });
});

describe('admission plugins (effective set)', () => {
  it('1.2.14 NodeRestriction must be enabled', () => {
    expect(status('cis-1.2.14', '--enable-admission-plugins=NodeRestriction')).toBe('pass');
    expect(status('cis-1.2.14')).toBe('fail');
  });

  it('1.2.12 / 1.2.13 default-on plugins pass unless disabled', () => {
    expect(status('cis-1.2.12')).toBe('pass');
    expect(status('cis-1.2.12', '--disable-admission-plugins=ServiceAccount')).toBe('fail');
    expect(status('cis-1.2.13', '--disable-admission-plugins=ServiceAccount')).toBe('pass');
    expect(status('cis-1.2.13', '--disable-admission-plugins=PodSecurity', '--disable-admission-plugins=NamespaceLifecycle')).toBe('fail');
  });

  it('1.2.10 AlwaysAdmit must not be enabled', () => {
    expect(status('cis-1.2.10')).toBe('pass');
    expect(status('cis-1.2.10', '--enable-admission-plugins=NodeRestriction,AlwaysAdmit')).toBe('fail');
  });

  it('honours the deprecated --admission-control list, which replaces the defaults', () => {
    expect(status('cis-1.2.12', '--admission-control=NamespaceLifecycle,NodeRestriction')).toBe('fail');
    expect(status('cis-1.2.14', '--admission-control=NamespaceLifecycle,NodeRestriction')).toBe('pass');
  });

  it('1.2.3, 1.2.9, 1.2.11 report the enabled list', () => {
    const v = one('cis-1.2.3', apiserver('--enable-admission-plugins=NodeRestriction, DenyServiceExternalIPs'));
    expect(v.status).toBe('pass');
    expect(v.evidence).toMatchObject({ key: '--enable-admission-plugins', value: ['NodeRestriction', 'DenyServiceExternalIPs'] });
    expect(status('cis-1.2.9', '--enable-admission-plugins=EventRateLimit')).toBe('pass');
    expect(status('cis-1.2.11', '--enable-admission-plugins=NodeRestriction')).toBe('fail');
  });
});

describe('audit and timeouts', () => {
  it('1.2.17-1.2.19 need integers at or above the threshold', () => {
    expect(status('cis-1.2.17', '--audit-log-maxage=30')).toBe('pass');
    expect(status('cis-1.2.17', '--audit-log-maxage=29')).toBe('fail');
    expect(status('cis-1.2.18', '--audit-log-maxbackup=abc')).toBe('fail');
    expect(one('cis-1.2.18', apiserver('--audit-log-maxbackup=abc')).evidence.detail).toContain('not an integer');
    expect(status('cis-1.2.19', '--audit-log-maxsize=200')).toBe('pass');
    expect(status('cis-1.2.19')).toBe('fail');
    expect(one('cis-1.2.19', apiserver()).evidence.detail).toContain('no audit log is written');
  });

  it('1.2.20 is a manual review that reports the current timeout', () => {
    expect(one('cis-1.2.20', apiserver('--request-timeout=5m'))).toMatchObject({ status: 'warn', evidence: { value: '5m', source: 'flag' } });
    expect(one('cis-1.2.20', apiserver())).toMatchObject({ status: 'warn', evidence: { value: '1m0s', source: 'default' } });
  });

  it('1.2.21 passes unset (default true) and fails false; 1.2.30 fails unset (default true)', () => {
    expect(status('cis-1.2.21')).toBe('pass');
    expect(status('cis-1.2.21', '--service-account-lookup=false')).toBe('fail');
    expect(status('cis-1.2.30')).toBe('fail');
    expect(status('cis-1.2.30', '--service-account-extend-token-expiration=false')).toBe('pass');
  });
});

describe('1.2.29 TLS cipher suites', () => {
  it('passes only when every listed suite is strong', () => {
    expect(status('cis-1.2.29', '--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256')).toBe('pass');
    const v = one('cis-1.2.29', apiserver('--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_3DES_EDE_CBC_SHA'));
    expect(v.status).toBe('fail');
    expect(v.evidence.detail).toContain('TLS_RSA_WITH_3DES_EDE_CBC_SHA');
    expect(status('cis-1.2.29')).toBe('fail');
  });
});

describe('encryption at rest', () => {
  const withEncryption = (resources: { resources: string[]; providers: string[] }[]) => {
    const s = apiserver('--encryption-provider-config=/etc/kubernetes/enc.yaml');
    s.encryptionConfig = { path: '/etc/kubernetes/enc.yaml', resources };
    return s;
  };

  it('1.2.27 judges the flag', () => {
    expect(status('cis-1.2.27')).toBe('fail');
    expect(one('cis-1.2.27', withEncryption([])).status).toBe('pass');
  });

  it('1.2.28 fails when identity is the first provider for secrets', () => {
    const v = one('cis-1.2.28', withEncryption([{ resources: ['secrets'], providers: ['identity', 'aescbc'] }]));
    expect(v.status).toBe('fail');
    expect(v.evidence).toMatchObject({ source: 'file', path: '/etc/kubernetes/enc.yaml', key: 'resources[0].providers[0]', value: 'identity' });
    expect(v.evidence.detail).toContain('plain text');
  });

  it.each(['aescbc', 'kms', 'secretbox'])('1.2.28 passes %s first', (provider) => {
    expect(one('cis-1.2.28', withEncryption([{ resources: ['secrets'], providers: [provider, 'identity'] }])).status).toBe('pass');
  });

  it('1.2.28 passes aesgcm with a rotation note, and fails an unknown provider', () => {
    const v = one('cis-1.2.28', withEncryption([{ resources: ['secrets'], providers: ['aesgcm'] }]));
    expect(v.status).toBe('pass');
    expect(v.evidence.detail).toContain('rotated');
    expect(one('cis-1.2.28', withEncryption([{ resources: ['secrets'], providers: ['rot13'] }])).status).toBe('fail');
  });

  it('1.2.28 uses the first entry covering secrets, wildcards included', () => {
    expect(one('cis-1.2.28', withEncryption([
      { resources: ['configmaps'], providers: ['identity'] },
      { resources: ['*.*'], providers: ['secretbox'] },
    ])).status).toBe('pass');
    expect(one('cis-1.2.28', withEncryption([
      { resources: ['*.'], providers: ['identity'] },
      { resources: ['secrets'], providers: ['aescbc'] },
    ])).status).toBe('fail');
    const none = one('cis-1.2.28', withEncryption([{ resources: ['configmaps'], providers: ['aescbc'] }]));
    expect(none.status).toBe('fail');
    expect(none.evidence.detail).toContain('no resources entry covers secrets');
  });

  it('1.2.28 fails without a config and errors when the config could not be read', () => {
    expect(status('cis-1.2.28')).toBe('fail');
    const s = withEncryption([]);
    s.encryptionConfig = { path: '/etc/kubernetes/enc.yaml', resources: [], error: { path: '/etc/kubernetes/enc.yaml', code: 'EACCES', message: 'denied' } };
    expect(one('cis-1.2.28', s).status).toBe('error');
    s.encryptionConfig = undefined;
    expect(one('cis-1.2.28', s).status).toBe('error');
  });
});
