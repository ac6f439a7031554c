import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { HostAccess } from '../../../agent/gather/host.js';
import { gatherPki } from '../../../agent/gather/pki/index.js';
import { isPkiFlag } from '../../../agent/gather/pki/discovery.js';
import { pkiChecks } from '../../../agent/evaluate/checks/pki.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { FindingSchema, type Finding } from '../../../proto/report.js';
import type { CertificateFact, KeyFact } from '../../../agent/facts/pki.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { daysFromNow, makeCert, type GeneratedCert } from '../../harness/certs.js';
import { component, emptySnapshot, settings } from '../sockets/snapshot.js';

let built: BuiltHost;
let pki: { certificates: CertificateFact[]; keys: KeyFact[] };
let ca: GeneratedCert;
let apiserver: GeneratedCert;
let weakEtcd: GeneratedCert;
let kubeletClient: GeneratedCert;
let soon: GeneratedCert;
const secretsOf: string[] = [];

beforeAll(() => {
  ca = makeCert({ cn: 'kubernetes', isCA: true });
  apiserver = makeCert({ cn: 'kube-apiserver', issuer: ca, sans: ['DNS:kubernetes', 'DNS:kubernetes.default', 'IP:10.96.0.1', 'IP:::1'] });
  const etcdCa = makeCert({ cn: 'etcd-ca', isCA: true, rsaBits: 1024, hash: 'sha1' });
  weakEtcd = makeCert({ cn: 'etcd-server', issuer: etcdCa, rsaBits: 1024, hash: 'sha1', notBefore: daysFromNow(-30), notAfter: daysFromNow(-2) });
  kubeletClient = makeCert({ cn: 'system:node:node-1', organization: 'system:nodes', issuer: ca, keyType: 'ec' });
  soon = makeCert({ cn: 'front-proxy-client', issuer: ca, notAfter: daysFromNow(10) });
  const md5 = makeCert({ cn: 'md5-leaf', issuer: ca, hash: 'md5' });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const otherPem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const sa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const encrypted = other.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }).toString();
  secretsOf.push(apiserver.keyPem, weakEtcd.keyPemTraditional, otherPem, kubeletClient.keyPemTraditional);

  built = buildHost({
    files: {
      '/etc/kubernetes/pki/ca.crt': ca.certPem,
      '/etc/kubernetes/pki/ca.key': { content: ca.keyPemTraditional, mode: 0o600 },
      '/etc/kubernetes/pki/apiserver.crt': apiserver.certPem,
      '/etc/kubernetes/pki/apiserver.key': { content: apiserver.keyPemTraditional, mode: 0o644 },
      '/etc/kubernetes/pki/front-proxy-client.crt': soon.certPem,
      '/etc/kubernetes/pki/front-proxy-client.key': { content: otherPem, mode: 0o600 }, // mismatched by name
      '/etc/kubernetes/pki/md5.crt': md5.certPem,
      '/etc/kubernetes/pki/etcd/ca.crt': etcdCa.certPem,
      '/etc/kubernetes/pki/etcd/bundle.pem': weakEtcd.certPem + etcdCa.certPem, // a chain: judged cert by cert
      '/etc/kubernetes/pki/sa.key': { content: sa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), mode: 0o600 },
      '/etc/kubernetes/pki/sa.pub': sa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      '/etc/kubernetes/pki/encrypted.key': { content: encrypted, mode: 0o600 },
      '/etc/kubernetes/pki/notes.crt': 'not a certificate at all\n', // in a PKI dir but not PEM: passed over
      '/etc/kubernetes/pki/broken.crt': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      // The kubelet's client cert and key in one file, and the usual symlink to it.
      '/var/lib/kubelet/pki/kubelet-client-2026-01-01.pem': { content: kubeletClient.certPem + kubeletClient.keyPemTraditional, mode: 0o600 },
      '/var/lib/kubelet/pki/kubelet-client-current.pem': { symlink: '/var/lib/kubelet/pki/kubelet-client-2026-01-01.pem' },
      // Named only by flags, outside the PKI dirs.
      '/srv/etcd/server.crt': weakEtcd.certPem,
      '/srv/etcd/server.key': { content: otherPem, mode: 0o640 },
      '/srv/etcd/config.yaml': 'name: x\n',
    },
  });
  const components = {
    'kube-apiserver': component('kube-apiserver', 10, [
      'kube-apiserver', '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt', '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
      '--client-ca-file=/etc/kubernetes/pki/ca.crt', '--etcd-certfile=/etc/kubernetes/pki/missing.crt',
      '--service-account-key-file=/etc/kubernetes/pki/sa.pub', '--token-auth-file=/srv/etcd/config.yaml',
    ]),
    etcd: component('etcd', 20, ['etcd', '--cert-file=/srv/etcd/server.crt'], { ETCD_KEY_FILE: '/srv/etcd/server.key', ETCD_TRUSTED_CA_FILE: '/srv/etcd/config.yaml' }),
  };
  const kubelet = { configLoaded: true, dropIns: [], errors: [], settings: settings({ tlsCertFile: '/etc/kubernetes/pki/apiserver.crt' }) };
  pki = gatherPki(new HostAccess(built), components, kubelet);
});
afterAll(() => built?.cleanup());

const cert = (path: string, index = 0) => pki.certificates.find((c) => c.path === path && c.index === index);
const key = (path: string) => pki.keys.find((k) => k.path === path);

describe('gatherPki', () => {
  it('reads certificates from the PKI dirs with subject, validity, CA flag, key and signature', () => {
    expect(cert('/etc/kubernetes/pki/ca.crt')).toMatchObject({
      subject: 'CN=kubernetes', isCA: true, selfSigned: true, keyType: 'rsa', keyBits: 2048,
      signatureAlgorithm: 'sha256WithRSAEncryption', count: 1,
    });
    expect(cert('/etc/kubernetes/pki/apiserver.crt')).toMatchObject({
      subject: 'CN=kube-apiserver', issuer: 'CN=kubernetes', isCA: false, selfSigned: false,
      sans: ['DNS:kubernetes', 'DNS:kubernetes.default', 'IP Address:10.96.0.1', 'IP Address:0:0:0:0:0:0:0:1'],
      usedBy: ['kube-apiserver --tls-cert-file', 'kubelet tlsCertFile'],
    });
    expect(cert('/etc/kubernetes/pki/apiserver.crt')?.notAfter).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(cert('/var/lib/kubelet/pki/kubelet-client-2026-01-01.pem')).toMatchObject({
      subject: 'O=system:nodes, CN=system:node:node-1', keyType: 'ec', curve: 'prime256v1', keyBits: 256,
      aliases: ['/var/lib/kubelet/pki/kubelet-client-current.pem'],
    });
  });

  it('splits a PEM bundle into its certificates', () => {
    expect(cert('/etc/kubernetes/pki/etcd/bundle.pem', 0)).toMatchObject({ subject: 'CN=etcd-server', count: 2, keyBits: 1024, signatureAlgorithm: 'sha1WithRSAEncryption' });
    expect(cert('/etc/kubernetes/pki/etcd/bundle.pem', 1)).toMatchObject({ subject: 'CN=etcd-ca', count: 2, isCA: true });
  });

  it('follows certificate and key flags, etcd env, and kubelet settings', () => {
    expect(cert('/srv/etcd/server.crt')?.usedBy).toEqual(['etcd --cert-file']);
    expect(key('/srv/etcd/server.key')).toMatchObject({ usedBy: ['etcd $ETCD_KEY_FILE'], pairedWith: '/srv/etcd/server.crt', pairedBy: 'flags', pairMatches: false });
    expect(pki.certificates.some((c) => c.path === '/srv/etcd/config.yaml' && c.error?.code === 'EINVAL')).toBe(true);
    expect(cert('/etc/kubernetes/pki/missing.crt')).toMatchObject({ error: { code: 'ENOENT' }, usedBy: ['kube-apiserver --etcd-certfile'] });
  });

  it('pairs keys with certificates by file, flags and name, and compares public keys', () => {
    expect(key('/etc/kubernetes/pki/apiserver.key')).toMatchObject({ kind: 'private', pairedBy: 'flags', pairMatches: true, matchesCertificate: '/etc/kubernetes/pki/apiserver.crt' });
    expect(key('/etc/kubernetes/pki/ca.key')).toMatchObject({ pairedBy: 'file-name', pairMatches: true });
    expect(key('/etc/kubernetes/pki/front-proxy-client.key')).toMatchObject({ pairedBy: 'file-name', pairMatches: false });
    expect(key('/var/lib/kubelet/pki/kubelet-client-2026-01-01.pem')).toMatchObject({ pairedBy: 'same-file', pairMatches: true, keyType: 'ec' });
    expect(key('/etc/kubernetes/pki/sa.key')).toMatchObject({ pairedWith: '/etc/kubernetes/pki/sa.pub', pairMatches: true, keyBits: 1024 });
    expect(key('/etc/kubernetes/pki/sa.pub')).toMatchObject({ kind: 'public', usedBy: ['kube-apiserver --service-account-key-file'] });
    expect(key('/etc/kubernetes/pki/encrypted.key')).toMatchObject({ encrypted: true });
    expect(key('/etc/kubernetes/pki/encrypted.key')?.keyBits).toBeUndefined();
  });

  it('passes over non-PEM files in the PKI dirs and reports a broken certificate', () => {
    expect(pki.certificates.find((c) => c.path === '/etc/kubernetes/pki/notes.crt')).toBeUndefined();
    expect(cert('/etc/kubernetes/pki/broken.crt')?.error?.code).toBe('EINVAL');
  });

  it('keeps key material out of the facts', () => {
    const json = JSON.stringify(pki);
    for (const pem of secretsOf) {
      const body = pem.split('\n').slice(1, -2).join('');
      for (let i = 0; i + 40 <= body.length; i += 200) expect(json).not.toContain(body.slice(i, i + 40));
    }
    expect(json).not.toMatch(/PRIVATE KEY/);
  });
});

describe('isPkiFlag', () => {
  it('recognises certificate and key flags, not other files', () => {
    for (const f of ['tls-cert-file', 'tls-private-key-file', 'client-ca-file', 'etcd-cafile', 'etcd-certfile', 'etcd-keyfile',
      'kubelet-client-certificate', 'kubelet-client-key', 'kubelet-certificate-authority', 'service-account-key-file',
      'trusted-ca-file', 'peer-cert-file', 'tls-sni-cert-key', 'cluster-signing-cert-file', 'oidc-ca-file']) expect(isPkiFlag(f), f).toBe(true);
    for (const f of ['token-auth-file', 'audit-policy-file', 'authentication-token-webhook-config-file', 'kubeconfig', 'config', 'encryption-provider-config']) {
      expect(isPkiFlag(f), f).toBe(false);
    }
  });
});

describe('PKI checks', () => {
  let findings: Finding[];
  beforeAll(() => {
    findings = evaluate(emptySnapshot({ certificates: pki.certificates, keys: pki.keys }), pkiChecks);
    for (const f of findings) FindingSchema.parse(f);
  });
  const of = (checkId: string, path: string, index?: number) => findings.find((f) => f.checkId === checkId
    && (f.resource as { path?: string }).path === path && (index === undefined || (f.resource as { index?: number }).index === index));

  it('fails expired, warns soon-to-expire, passes the rest, with SANs and CA/leaf in evidence', () => {
    expect(of('pki-cert-expiry', '/srv/etcd/server.crt')).toMatchObject({ status: 'fail', title: 'Certificate expired', resource: { kind: 'certificate', subject: 'CN=etcd-server' } });
    expect(of('pki-cert-expiry', '/etc/kubernetes/pki/front-proxy-client.crt')).toMatchObject({ status: 'warn', severity: 'medium' });
    const ok = of('pki-cert-expiry', '/etc/kubernetes/pki/apiserver.crt');
    expect(ok).toMatchObject({ status: 'pass', resource: { notAfter: cert('/etc/kubernetes/pki/apiserver.crt')?.notAfter } });
    expect(ok?.evidence.sans).toContain('DNS:kubernetes');
    expect(ok?.evidence.detail).toMatch(/leaf certificate.*issuer CN=kubernetes/);
    expect(of('pki-cert-expiry', '/etc/kubernetes/pki/ca.crt')?.evidence.detail).toMatch(/CA certificate.*self-signed/);
  });

  it('judges each certificate of a bundle separately, with distinct ids', () => {
    const leaf = of('pki-cert-weak-key', '/etc/kubernetes/pki/etcd/bundle.pem', 0);
    const root = of('pki-cert-weak-key', '/etc/kubernetes/pki/etcd/bundle.pem', 1);
    expect(leaf?.status).toBe('fail');
    expect(root?.status).toBe('fail');
    expect(leaf?.id).not.toBe(root?.id);
    // SHA-1 on the leaf fails; on the self-signed root it is not relied on.
    expect(of('pki-cert-weak-signature', '/etc/kubernetes/pki/etcd/bundle.pem', 0)?.status).toBe('fail');
    expect(of('pki-cert-weak-signature', '/etc/kubernetes/pki/etcd/bundle.pem', 1)?.status).toBe('pass');
    expect(of('pki-cert-weak-signature', '/etc/kubernetes/pki/md5.crt')).toMatchObject({ status: 'fail', evidence: { value: 'md5WithRSAEncryption' } });
    expect(of('pki-cert-weak-key', '/var/lib/kubelet/pki/kubelet-client-2026-01-01.pem')?.status).toBe('pass');
  });

  it('fails key files more open than 600 and keys that do not match their certificate', () => {
    expect(of('pki-key-file-permissions', '/etc/kubernetes/pki/apiserver.key')).toMatchObject({ status: 'fail', evidence: { value: '644' } });
    expect(of('pki-key-file-permissions', '/srv/etcd/server.key')).toMatchObject({ status: 'fail', evidence: { value: '640' } });
    expect(of('pki-key-file-permissions', '/etc/kubernetes/pki/ca.key')?.status).toBe('pass');
    expect(of('pki-key-mismatch', '/srv/etcd/server.key')).toMatchObject({ status: 'fail' });
    expect(of('pki-key-mismatch', '/etc/kubernetes/pki/front-proxy-client.key')?.status).toBe('fail');
    expect(of('pki-key-mismatch', '/etc/kubernetes/pki/apiserver.key')?.status).toBe('pass');
    expect(of('pki-key-mismatch', '/var/lib/kubelet/pki/kubelet-client-2026-01-01.pem')?.status).toBe('pass');
  });

  it('fails a weak standalone key (the service account key) once, and reports unreadable named files', () => {
    expect(of('pki-key-weak', '/etc/kubernetes/pki/sa.key')?.status).toBe('fail');
    expect(of('pki-key-weak', '/etc/kubernetes/pki/sa.pub')).toBeUndefined(); // its private half is judged
    expect(of('pki-key-weak', '/etc/kubernetes/pki/apiserver.key')).toBeUndefined(); // judged through its certificate
    expect(of('pki-unreadable', '/etc/kubernetes/pki/missing.crt')).toMatchObject({ status: 'error' });
    expect(of('pki-unreadable', '/etc/kubernetes/pki/broken.crt')).toMatchObject({ status: 'error' });
  });

  it('keeps key material out of the findings', () => {
    const json = JSON.stringify(findings);
    expect(json).not.toMatch(/PRIVATE KEY|BEGIN/);
  });
});
