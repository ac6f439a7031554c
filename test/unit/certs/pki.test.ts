// The collector's small PKI (collector/certs/pki.ts): what is kept, what is made anew and why, with the clock
// moved instead of waiting a year. Certificates are checked with Node's own X509 verification.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMaterial, issueServing, makeCa, sanSet, splitPem, trustBundle, type CertAndKey, type Wanted } from '../../../collector/certs/pki.js';
import { serviceNames } from '../../../collector/certs/command.js';

const DAY = 86_400_000;
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);
const WANTED: Wanted = {
  commonName: 'vigil-collector.vigil.svc',
  dnsNames: [...serviceNames(['vigil-collector'], 'vigil', 'cluster.local'), 'localhost'],
  ipAddresses: ['127.0.0.1'],
  servingValidityMs: 365 * DAY,
  caValidityMs: 3650 * DAY,
  renewWhenLeft: 1 / 3,
};

function issuedBy(cert: string, ca: string): boolean {
  const c = new X509Certificate(cert);
  const a = new X509Certificate(ca);
  return c.checkIssued(a) && c.verify(a.publicKey);
}

describe('ensureMaterial', () => {
  let first: ReturnType<typeof ensureMaterial>;
  beforeAll(() => {
    first = ensureMaterial({}, WANTED, T0);
  });

  it('makes a CA and a serving certificate for the Service names when nothing is stored', () => {
    expect(first.ca).toBe('created');
    expect(first.serving).toBe('created');
    expect(first.reasons).toEqual([]);
    const ca = new X509Certificate(first.material.ca.cert);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('CN=vigil-collector-ca');
    const serving = new X509Certificate(first.material.serving.cert);
    expect(serving.ca).toBe(false);
    expect(issuedBy(first.material.serving.cert, first.material.ca.cert)).toBe(true);
    expect(serving.subject).toContain('CN=vigil-collector.vigil.svc');
    expect([...sanSet(serving)].sort()).toEqual([
      'DNS:localhost', 'DNS:vigil-collector', 'DNS:vigil-collector.vigil', 'DNS:vigil-collector.vigil.svc',
      'DNS:vigil-collector.vigil.svc.cluster.local', 'IP:127.0.0.1',
    ]);
    expect(serving.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth only
    expect(new Date(serving.validTo).getTime() - T0.getTime()).toBe(365 * DAY);
    expect(new Date(ca.validTo).getTime() - T0.getTime()).toBe(3650 * DAY);
    expect(new Date(serving.validFrom).getTime()).toBeLessThan(T0.getTime()); // backdated for clock skew
    expect(serving.checkPrivateKey(createPrivateKey(first.material.serving.key))).toBe(true);
    expect(ca.checkPrivateKey(createPrivateKey(first.material.ca.key))).toBe(true);
  });

  it('keeps everything that is valid, byte for byte', () => {
    const again = ensureMaterial(stored(first.material), WANTED, at(100));
    expect([again.ca, again.serving]).toEqual(['kept', 'kept']);
    expect(again.material.ca).toEqual(first.material.ca);
    expect(again.material.serving).toEqual(first.material.serving);
  });

  it('renews the serving certificate once less than a third of its life is left, under the same CA', () => {
    const renewed = ensureMaterial(stored(first.material), WANTED, at(250));
    expect([renewed.ca, renewed.serving]).toEqual(['kept', 'renewed']);
    expect(renewed.reasons.join()).toMatch(/serving certificate: expires on 2031-01-01.*renewed ahead of time/);
    expect(renewed.material.serving.key).not.toBe(first.material.serving.key);
    expect(issuedBy(renewed.material.serving.cert, first.material.ca.cert)).toBe(true);
    expect(new Date(new X509Certificate(renewed.material.serving.cert).validTo).getTime()).toBe(at(250 + 365).getTime());
  });

  it('reissues the serving certificate when the names asked for change', () => {
    const more = { ...WANTED, dnsNames: [...WANTED.dnsNames, ...serviceNames(['vigil-nats'], 'vigil', 'cluster.local')] };
    const r = ensureMaterial(stored(first.material), more, at(1));
    expect([r.ca, r.serving]).toEqual(['kept', 'renewed']);
    expect(r.reasons.join()).toMatch(/names differ/);
    expect(sanSet(new X509Certificate(r.material.serving.cert)).has('DNS:vigil-nats.vigil.svc')).toBe(true);
  });

  it('reissues a serving certificate that another CA signed, or whose key does not match', () => {
    const other = makeCa(T0, WANTED.caValidityMs);
    const foreign = issueServing(other, WANTED, T0);
    const r1 = ensureMaterial({ ...stored(first.material), serving: foreign }, WANTED, at(1));
    expect(r1.serving).toBe('renewed');
    expect(r1.reasons.join()).toMatch(/not issued by the current CA/);
    const r2 = ensureMaterial({ ...stored(first.material), serving: { cert: first.material.serving.cert, key: foreign.key } }, WANTED, at(1));
    expect(r2.reasons.join()).toMatch(/key does not match/);
    expect(issuedBy(r2.material.serving.cert, first.material.ca.cert)).toBe(true);
  });

  it('replaces the CA near its end, and keeps trusting the old one until it expires', () => {
    const late = at(3650 - 400); // less than a third of ten years left
    const r = ensureMaterial(stored(first.material), WANTED, late);
    expect([r.ca, r.serving]).toEqual(['renewed', 'renewed']);
    expect(r.material.previousCa).toBe(first.material.ca.cert);
    expect(issuedBy(r.material.serving.cert, r.material.ca.cert)).toBe(true);
    const bundle = splitPem(trustBundle(r.material, late));
    expect(bundle).toEqual([r.material.ca.cert, first.material.ca.cert].map((c) => c.trim() + '\n'));
    // Read back from the bundle, the new CA is found by its key and the old one stays the previous CA.
    const reread = ensureMaterial({ caBundle: trustBundle(r.material, late), caKey: r.material.ca.key, serving: r.material.serving }, WANTED, late);
    expect([reread.ca, reread.serving]).toEqual(['kept', 'kept']);
    expect(reread.material.previousCa?.trim()).toBe(first.material.ca.cert.trim());
    // Once the old CA has expired it leaves the bundle.
    expect(splitPem(trustBundle(r.material, at(3651)))).toHaveLength(1);
  });

  it('does not keep trusting a CA that is replaced for any reason but age', () => {
    const r = ensureMaterial({ caBundle: first.material.ca.cert, caKey: makeCa(T0, WANTED.caValidityMs).key, serving: first.material.serving }, WANTED, at(1));
    expect(r.ca).toBe('renewed');
    expect(r.reasons.join()).toMatch(/no certificate in the bundle matches the key/);
    expect(r.material.previousCa).toBeUndefined();
  });

  it('treats unreadable stored data as missing, never throws on it', () => {
    const r = ensureMaterial({ caBundle: 'garbage', caKey: 'not a key', serving: { cert: 'x', key: 'y' } }, WANTED, T0);
    expect([r.ca, r.serving]).toEqual(['renewed', 'renewed']);
    expect(r.reasons.join()).toMatch(/CA: the key is not a readable PEM private key/);
    const expired = ensureMaterial(stored(first.material), WANTED, at(3651));
    expect(expired.reasons.join()).toMatch(/CA: expired on/);
    expect(expired.material.previousCa).toBeUndefined();
  });

  it('refuses what it is asked to make when it makes no sense', () => {
    expect(() => ensureMaterial({}, { ...WANTED, dnsNames: [] }, T0)).toThrow(/at least one DNS name/);
    expect(() => ensureMaterial({}, { ...WANTED, dnsNames: ['Bad_Name'] }, T0)).toThrow(/not a DNS name/);
    expect(() => ensureMaterial({}, { ...WANTED, ipAddresses: ['300.1.1.1'] }, T0)).toThrow(/not an IP address/);
    expect(() => ensureMaterial({}, { ...WANTED, caValidityMs: WANTED.servingValidityMs }, T0)).toThrow(/outlive/);
  });
});

function stored(m: { ca: CertAndKey; serving: CertAndKey }) {
  return { caBundle: m.ca.cert, caKey: m.ca.key, serving: m.serving };
}
