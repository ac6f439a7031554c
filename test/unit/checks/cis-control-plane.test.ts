// Controller-manager (1.3), scheduler (1.4), etcd (2) and control-plane configuration (3) checks.
import { describe, expect, it } from 'vitest';
import type { CertificateFact } from '../../../agent/facts/pki.js';
import { emptySnapshot, withComponent } from './snapshot-factory.js';
import { one } from './cis-profiles.js';

const cm = (...args: string[]) => withComponent(emptySnapshot(), 'kube-controller-manager', args);
const scheduler = (...args: string[]) => withComponent(emptySnapshot(), 'kube-scheduler', args);
const etcd = (args: string[], env: Record<string, string> = {}) => withComponent(emptySnapshot(), 'etcd', args, { env });

describe('kube-controller-manager', () => {
  it('1.3.6 reads --feature-gates as a map: the last value of a gate wins', () => {
    expect(one('cis-1.3.6', cm()).status).toBe('pass');
    expect(one('cis-1.3.6', cm('--feature-gates=RotateKubeletServerCertificate=false')).status).toBe('fail');
    expect(one('cis-1.3.6', cm('--feature-gates=RotateKubeletServerCertificate=False,Foo=true')).status).toBe('fail');
    expect(one('cis-1.3.6', cm('--feature-gates=RotateKubeletServerCertificate=false', '--feature-gates=RotateKubeletServerCertificate=true')).status).toBe('pass');
  });

  it('1.3.7 fails an unset --bind-address (default 0.0.0.0) and passes any loopback address', () => {
    const unset = one('cis-1.3.7', cm());
    expect(unset.status).toBe('fail');
    expect(unset.evidence).toMatchObject({ source: 'default', value: '0.0.0.0' });
    expect(one('cis-1.3.7', cm('--bind-address=127.0.0.1')).status).toBe('pass');
    expect(one('cis-1.3.7', cm('--bind-address=::1')).status).toBe('pass');
    expect(one('cis-1.3.7', cm('--bind-address=10.0.0.5')).status).toBe('fail');
  });

  it('1.3.3 needs use-service-account-credentials true (default false)', () => {
    expect(one('cis-1.3.3', cm()).status).toBe('fail');
    expect(one('cis-1.3.3', cm('--use-service-account-credentials')).status).toBe('pass');
  });

  it('1.3.1 explains the default when the threshold is unset', () => {
    const v = one('cis-1.3.1', cm());
    expect(v.status).toBe('fail');
    expect(v.evidence.detail).toContain('12500');
  });
});

describe('kube-scheduler', () => {
  it('1.4.1 judges --profiling, and warns when --config makes the scheduler ignore it', () => {
    expect(one('cis-1.4.1', scheduler('--profiling=false')).status).toBe('pass');
    expect(one('cis-1.4.1', scheduler()).status).toBe('fail');
    const v = one('cis-1.4.1', scheduler('--profiling=false', '--config=/etc/kubernetes/scheduler-config.yaml'));
    expect(v.status).toBe('warn');
    expect(v.evidence.detail).toContain('/etc/kubernetes/scheduler-config.yaml');
  });

  it('1.4.2 bind address', () => {
    expect(one('cis-1.4.2', scheduler()).status).toBe('fail');
    expect(one('cis-1.4.2', scheduler('--bind-address=127.0.0.1')).status).toBe('pass');
  });
});

describe('etcd: flag over environment', () => {
  it('reads the ETCD_* variable when the flag is absent, with source env', () => {
    const v = one('cis-2.2', etcd([], { ETCD_CLIENT_CERT_AUTH: 'true' }));
    expect(v.status).toBe('pass');
    expect(v.evidence).toMatchObject({ source: 'env', key: 'ETCD_CLIENT_CERT_AUTH', value: 'true' });
  });

  it('lets the command-line flag win over the environment', () => {
    const v = one('cis-2.2', etcd(['--client-cert-auth=false'], { ETCD_CLIENT_CERT_AUTH: 'true' }));
    expect(v.status).toBe('fail');
    expect(v.evidence).toMatchObject({ source: 'flag', key: '--client-cert-auth', value: 'false' });
    expect(one('cis-2.3', etcd(['--auto-tls=false'], { ETCD_AUTO_TLS: 'true' })).status).toBe('pass');
  });

  it('uses etcd defaults when neither is set', () => {
    expect(one('cis-2.2', etcd([])).status).toBe('fail');
    expect(one('cis-2.2', etcd([])).evidence.source).toBe('default');
    expect(one('cis-2.3', etcd([])).status).toBe('pass');
    expect(one('cis-2.6', etcd([])).status).toBe('pass');
    expect(one('cis-2.5', etcd(['--peer-client-cert-auth'])).status).toBe('pass');
  });

  it('needs both cert and key, from flags or env', () => {
    expect(one('cis-2.1', etcd(['--cert-file=/s.crt'], { ETCD_KEY_FILE: '/s.key' })).status).toBe('pass');
    expect(one('cis-2.1', etcd(['--cert-file=/s.crt'])).status).toBe('fail');
    expect(one('cis-2.4', etcd([], { ETCD_PEER_CERT_FILE: '/p.crt', ETCD_PEER_KEY_FILE: '/p.key' })).status).toBe('pass');
  });

  it('warns when etcd reads a --config-file, which overrides flags and env', () => {
    const v = one('cis-2.2', etcd(['--config-file=/etc/etcd/etcd.conf.yml', '--client-cert-auth=false']));
    expect(v.status).toBe('warn');
    expect(v.evidence.detail).toContain('/etc/etcd/etcd.conf.yml');
    expect(one('cis-2.1', etcd([], { ETCD_CONFIG_FILE: '/etc/etcd/etcd.conf.yml' })).status).toBe('warn');
  });
});

describe('etcd 2.7 dedicated CA', () => {
  const cert = (path: string, subject: string, extra: Partial<CertificateFact> = {}): CertificateFact => ({
    path, index: 0, count: 1, file: { path, exists: true }, subject,
    notBefore: '2025-01-01T00:00:00Z', notAfter: '2035-01-01T00:00:00Z', sans: [], usedBy: [], ...extra,
  });

  it('fails when unset or when it is the API server client CA', () => {
    expect(one('cis-2.7', etcd([])).status).toBe('fail');
    const s = etcd(['--trusted-ca-file=/etc/kubernetes/pki/ca.crt']);
    withComponent(s, 'kube-apiserver', ['--client-ca-file=/etc/kubernetes/pki/ca.crt']);
    expect(one('cis-2.7', s).status).toBe('fail');
  });

  it('fails when a different file holds the same CA certificate', () => {
    const s = etcd(['--trusted-ca-file=/etc/etcd/ca.crt']);
    withComponent(s, 'kube-apiserver', ['--client-ca-file=/etc/kubernetes/pki/ca.crt']);
    s.certificates = [cert('/etc/etcd/ca.crt', 'CN=kubernetes'), cert('/etc/kubernetes/pki/ca.crt', 'CN=kubernetes')];
    expect(one('cis-2.7', s).status).toBe('fail');
    s.certificates = [cert('/etc/etcd/ca.crt', 'CN=etcd-ca'), cert('/etc/kubernetes/pki/ca.crt', 'CN=kubernetes')];
    expect(one('cis-2.7', s).status).toBe('pass');
  });

  it('compares fingerprints when known, across every certificate of a bundle', () => {
    const s = etcd(['--trusted-ca-file=/etc/etcd/bundle.crt']);
    withComponent(s, 'kube-apiserver', ['--client-ca-file=/etc/kubernetes/pki/ca.crt']);
    s.certificates = [
      cert('/etc/etcd/bundle.crt', 'CN=etcd-ca', { fingerprint256: 'AA' }),
      cert('/etc/etcd/bundle.crt', 'CN=kubernetes', { index: 1, count: 2, fingerprint256: 'BB' }),
      cert('/etc/kubernetes/pki/ca.crt', 'CN=kubernetes', { fingerprint256: 'BB' }),
    ];
    expect(one('cis-2.7', s).status).toBe('fail');
    // Same subject and dates, different key: a re-issued CA with another fingerprint is a different CA.
    s.certificates = [
      cert('/etc/etcd/bundle.crt', 'CN=kubernetes', { fingerprint256: 'CC' }),
      cert('/etc/kubernetes/pki/ca.crt', 'CN=kubernetes', { fingerprint256: 'BB' }),
    ];
    expect(one('cis-2.7', s).status).toBe('pass');
  });

  it('passes a set CA on an etcd-only node, saying uniqueness was not verified', () => {
    const v = one('cis-2.7', etcd([], { ETCD_TRUSTED_CA_FILE: '/etc/etcd/ca.crt' }));
    expect(v.status).toBe('pass');
    expect(v.evidence.source).toBe('env');
    expect(v.evidence.detail).toContain('not verified');
  });
});

describe('control-plane configuration (3.x)', () => {
  it('3.1.x are manual reviews on the API server node, with the facts a reviewer needs', () => {
    const s = withComponent(emptySnapshot(), 'kube-apiserver', ['--client-ca-file=/etc/kubernetes/pki/ca.crt', '--enable-bootstrap-token-auth=true']);
    const v = one('cis-3.1.1', s);
    expect(v).toMatchObject({ status: 'warn', evidence: { key: '--client-ca-file', value: '/etc/kubernetes/pki/ca.crt' } });
    expect(one('cis-3.1.3', s).evidence.detail).toContain('bootstrap token authentication is on');
    expect(one('cis-3.1.2', s).status).toBe('warn');
    expect(one('cis-3.1.1', emptySnapshot())).toMatchObject({ status: 'skip', resource: { kind: 'component', component: 'kube-apiserver' } });
  });

  it('3.2.1 judges --audit-policy-file; 3.2.2 warns with the policy path', () => {
    const s = withComponent(emptySnapshot(), 'kube-apiserver', ['--audit-policy-file=/etc/kubernetes/audit-policy.yaml']);
    expect(one('cis-3.2.1', s).status).toBe('pass');
    expect(one('cis-3.2.2', s)).toMatchObject({ status: 'warn', evidence: { value: '/etc/kubernetes/audit-policy.yaml' } });
    const none = withComponent(emptySnapshot(), 'kube-apiserver', []);
    expect(one('cis-3.2.1', none).status).toBe('fail');
    expect(one('cis-3.2.2', none).evidence.detail).toContain('nothing is audited');
  });
});
