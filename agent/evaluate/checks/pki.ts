// PKI hygiene: every certificate and key the node holds or its components are started with. Judged from
// gathered facts only (no key material reaches evaluation). Bundles are judged certificate by certificate.
import type { Evidence } from '../../../proto/report.js';
import { fact } from '../../facts/inputs.js';
import type { Check, Verdict } from '../check.js';
import type { Snapshot } from '../../facts/snapshot.js';
import type { CertificateFact, KeyFact } from '../../facts/pki.js';

/** SHA-1 and MD5 (and older) signatures can be forged or collided. */
function isWeakSignature(algorithm: string): boolean {
  return /^(md2|md4|md5|sha1)with|withsha1$|^dsawithsha1$/i.test(algorithm);
}

const DAY = 86_400_000;
const EXPIRY_WARNING_DAYS = 30;
const MIN_RSA_BITS = 2048;
const MIN_EC_BITS = 256;

type CertResource = Extract<Verdict['resource'], { kind: 'certificate' }>;

function certResource(c: CertificateFact): CertResource {
  const r: CertResource = { kind: 'certificate', path: c.path };
  if (c.subject !== undefined) r.subject = c.subject;
  if (c.notAfter !== undefined) r.notAfter = c.notAfter;
  if (c.count > 1) r.index = c.index;
  return r;
}

/** Part of the finding id: certificates of one bundle share a path. */
const bundleIndex = (c: CertificateFact): string | undefined => (c.count > 1 ? `#${c.index}` : undefined);

function describe(c: CertificateFact): string {
  const parts = [
    `${c.isCA ? 'CA' : 'leaf'} certificate${c.count > 1 ? ` #${c.index + 1} of ${c.count} in the bundle` : ''}`,
    `subject ${c.subject ?? '?'}`,
    `issuer ${c.selfSigned ? 'itself (self-signed)' : c.issuer ?? '?'}`,
  ];
  if (c.sans.length > 0) parts.push(`SANs ${c.sans.join(', ')}`);
  if (c.usedBy.length > 0) parts.push(`used by ${c.usedBy.join('; ')}`);
  return parts.join('; ');
}

function certEvidence(c: CertificateFact, expected: string, value: unknown, detail: string): Evidence {
  const e: Evidence = { source: 'pki', path: c.path, expected, detail: `${detail}. ${describe(c)}` };
  if (value !== undefined) e.value = value;
  if (c.sans.length > 0) e.sans = c.sans;
  return e;
}

function certVerdicts(s: Snapshot, judge: (c: CertificateFact) => Omit<Verdict, 'resource' | 'discriminator'> | undefined): Verdict[] {
  const out: Verdict[] = [];
  for (const c of s.certificates) {
    if (c.error) continue;
    const v = judge(c);
    if (!v) continue;
    const verdict: Verdict = { ...v, resource: certResource(c) };
    const d = bundleIndex(c);
    if (d) verdict.discriminator = d;
    out.push(verdict);
  }
  return out;
}

const expiry: Check = {
  id: 'pki-cert-expiry', cis: null, severity: 'high', component: 'node',
  title: 'Certificate validity',
  remediation: 'Renew the certificate before it expires (kubeadm: `kubeadm certs renew all` then restart the control-plane static pods; kubelet: enable rotateCertificates), and monitor expiry.',
  reads: [fact('certificates')],
  evaluate(s) {
    const now = Date.now();
    return certVerdicts(s, (c) => {
      const notAfter = c.notAfter ? Date.parse(c.notAfter) : NaN;
      const notBefore = c.notBefore ? Date.parse(c.notBefore) : NaN;
      const expected = `valid now and for at least ${EXPIRY_WARNING_DAYS} more days`;
      if (Number.isNaN(notAfter)) return { status: 'error', evidence: certEvidence(c, expected, c.notAfter, 'the validity period could not be read') };
      const daysLeft = Math.floor((notAfter - now) / DAY);
      if (notAfter <= now) {
        return { status: 'fail', title: 'Certificate expired', evidence: certEvidence(c, expected, c.notAfter, `expired ${-daysLeft} day(s) ago`) };
      }
      if (!Number.isNaN(notBefore) && notBefore > now) {
        return { status: 'warn', severity: 'medium', title: 'Certificate not yet valid', evidence: certEvidence(c, expected, c.notBefore, 'not valid before its notBefore date: a wrong clock or a mis-issued certificate') };
      }
      if (daysLeft < EXPIRY_WARNING_DAYS) {
        return { status: 'warn', severity: 'medium', title: 'Certificate expires soon', evidence: certEvidence(c, expected, c.notAfter, `expires in ${daysLeft} day(s)`) };
      }
      return { status: 'pass', evidence: certEvidence(c, expected, c.notAfter, `valid for ${daysLeft} more day(s)`) };
    });
  },
};

function weakKey(keyType: string | undefined, bits: number | undefined): { weak: boolean; expected: string } | undefined {
  if (keyType === 'rsa' || keyType === 'rsa-pss' || keyType === 'dsa') {
    return bits === undefined ? undefined : { weak: bits < MIN_RSA_BITS, expected: `>= ${MIN_RSA_BITS} bits` };
  }
  if (keyType === 'ec') return bits === undefined ? undefined : { weak: bits < MIN_EC_BITS, expected: `>= ${MIN_EC_BITS} bits` };
  if (keyType === 'ed25519' || keyType === 'ed448') return { weak: false, expected: 'a strong key' };
  return undefined;
}

const certKeySize: Check = {
  id: 'pki-cert-weak-key', cis: null, severity: 'high', component: 'node',
  title: 'Certificate key strong enough',
  remediation: 'Reissue the certificate with an RSA key of at least 2048 bits (or ECDSA P-256 or stronger).',
  reads: [fact('certificates')],
  evaluate: (s) => certVerdicts(s, (c) => {
    const judged = weakKey(c.keyType, c.keyBits);
    if (!judged) return undefined;
    const what = `${c.keyType} ${c.keyBits ?? '?'} bits${c.curve ? ` (${c.curve})` : ''}`;
    return judged.weak
      ? { status: 'fail', title: 'Certificate key too weak', evidence: certEvidence(c, judged.expected, what, `${what} can be factored or brute-forced`) }
      : { status: 'pass', evidence: certEvidence(c, judged.expected, what, what) };
  }),
};

const certSignature: Check = {
  id: 'pki-cert-weak-signature', cis: null, severity: 'high', component: 'node',
  title: 'Certificate signature algorithm strong enough',
  remediation: 'Reissue the certificate signed with SHA-256 or stronger.',
  reads: [fact('certificates')],
  evaluate: (s) => certVerdicts(s, (c) => {
    if (!c.signatureAlgorithm) return undefined;
    const expected = 'SHA-256 or stronger';
    if (!isWeakSignature(c.signatureAlgorithm)) return { status: 'pass', evidence: certEvidence(c, expected, c.signatureAlgorithm, c.signatureAlgorithm) };
    // A root's self-signature is never relied on: trust comes from the root being configured, not from its signature.
    if (c.isCA && c.selfSigned) {
      return { status: 'pass', evidence: certEvidence(c, expected, c.signatureAlgorithm, `${c.signatureAlgorithm} on a self-signed root CA: its own signature is not relied on`) };
    }
    return {
      status: 'fail', title: 'Certificate signed with a broken hash',
      evidence: certEvidence(c, expected, c.signatureAlgorithm, `${c.signatureAlgorithm}: collisions let an attacker obtain a certificate with the same signature`),
    };
  }),
};

function keyEvidence(k: KeyFact, expected: string, value: unknown, detail: string): Evidence {
  const e: Evidence = { source: 'pki', path: k.path, expected, detail: k.usedBy.length > 0 ? `${detail}; used by ${k.usedBy.join('; ')}` : detail };
  if (value !== undefined) e.value = value;
  return e;
}

/** One verdict per key file (a file can hold several keys). */
function uniqueFiles(keys: KeyFact[]): KeyFact[] {
  const seen = new Set<string>();
  return keys.filter((k) => !seen.has(k.path) && seen.add(k.path));
}

const keyMode: Check = {
  id: 'pki-key-file-permissions', cis: null, severity: 'medium', component: 'node',
  title: 'Private key file mode 600 or tighter',
  remediation: 'chmod 600 the key file (and keep it owned by the user of the component that reads it).',
  reads: [fact('keys')],
  evaluate: (s) => uniqueFiles(s.keys.filter((k) => k.kind === 'private' && !k.error && k.file.mode !== undefined)).map((k): Verdict => {
    const mode = k.file.mode!;
    const ok = (mode & ~0o600) === 0;
    const octal = mode.toString(8).padStart(3, '0');
    return {
      status: ok ? 'pass' : 'fail',
      resource: { kind: 'file', path: k.path },
      evidence: keyEvidence(k, '600 or tighter', octal, ok ? `mode ${octal}` : `mode ${octal}: ${mode & 0o044 ? 'readable by users other than its owner' : 'more than owner read/write'}`),
    };
  }),
};

const keyMatch: Check = {
  id: 'pki-key-mismatch', cis: null, severity: 'high', component: 'node',
  title: 'Private key matches its certificate',
  remediation: 'Point the key flag at the key the certificate was issued for (or reissue the certificate for this key); a mismatched pair fails every TLS handshake or, worse, is being replaced piecemeal.',
  reads: [fact('keys')],
  evaluate: (s) => uniqueFiles(s.keys.filter((k) => k.kind === 'private' && k.pairedWith !== undefined && k.pairMatches !== undefined)).map((k): Verdict => ({
    status: k.pairMatches ? 'pass' : 'fail',
    resource: { kind: 'file', path: k.path },
    evidence: keyEvidence(k, `the public key of ${k.pairedWith}`, k.pairedWith,
      `${k.pairMatches ? 'matches' : 'does not match'} ${k.pairedWith} (paired by ${k.pairedBy})`
        + (!k.pairMatches && k.matchesCertificate ? `; it matches ${k.matchesCertificate} instead` : '')),
  })),
};

const keySize: Check = {
  id: 'pki-key-weak', cis: null, severity: 'high', component: 'node',
  title: 'Key without a certificate strong enough',
  remediation: 'Replace the key with an RSA key of at least 2048 bits (or ECDSA P-256 or stronger); for the service account key, rotate it and keep the old public key in --service-account-key-file until issued tokens expire.',
  reads: [fact('certificates'), fact('keys')],
  evaluate(s) {
    const certPaths = new Set(s.certificates.map((c) => c.path));
    const matchedPublic = new Set(s.keys.map((k) => k.matchesCertificate).filter(Boolean));
    // Keys of a certificate are judged through it (pki-cert-weak-key); these are the rest, e.g. sa.key / sa.pub.
    const standalone = s.keys.filter((k) => !k.error && !k.encrypted
      && !(k.kind === 'private' && k.matchesCertificate && certPaths.has(k.matchesCertificate))
      && !(k.kind === 'public' && matchedPublic.has(k.path)));
    return uniqueFiles(standalone).flatMap((k): Verdict[] => {
      const judged = weakKey(k.keyType, k.keyBits);
      if (!judged) return [];
      const what = `${k.kind} ${k.keyType} key, ${k.keyBits ?? '?'} bits${k.curve ? ` (${k.curve})` : ''}`;
      return [{ status: judged.weak ? 'fail' : 'pass', resource: { kind: 'file', path: k.path }, evidence: keyEvidence(k, judged.expected, what, what) }];
    });
  },
};

const unreadable: Check = {
  id: 'pki-unreadable', cis: null, severity: 'medium', component: 'node',
  title: 'Certificate or key named by a component could not be read',
  remediation: 'Check that the file exists, is a PEM certificate or key, and that the agent can read it; a component started with a missing file does not serve TLS as configured.',
  reads: [fact('certificates'), fact('keys')],
  evaluate: (s) => [...s.certificates, ...s.keys].filter((f) => f.error).map((f): Verdict => ({
    status: 'error',
    resource: { kind: 'file', path: f.path },
    evidence: { source: 'pki', path: f.path, detail: `${f.error!.code}: ${f.error!.message}${f.usedBy.length ? `; used by ${f.usedBy.join('; ')}` : ''}` },
    discriminator: `${f.index}`,
  })),
};

export const pkiChecks: Check[] = [expiry, certKeySize, certSignature, keyMode, keyMatch, keySize, unreadable];
