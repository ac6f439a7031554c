// The collector's own small PKI: a self-signed CA and one serving certificate for the collector's Service names.
// Pure functions over PEM text and a clock: which material to keep, which to make, and why. Where the PEM lives
// (a directory, Kubernetes Secrets) is the callers' business (dir-store.ts, cluster-store.ts).
import { createPublicKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP, SocketAddress } from 'node:net';
import forge from 'node-forge';

export interface CertAndKey {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8). */
  key: string;
}

/** What a store holds. Any part may be missing (first run) or unusable (hand-edited, expired, wrong names). */
export interface StoredMaterial {
  /** PEM text that holds the CA certificate, possibly followed by the previous CA (a trust bundle). */
  caBundle?: string;
  caKey?: string;
  serving?: Partial<CertAndKey>;
}

export interface Material {
  ca: CertAndKey;
  /** The CA this one replaced, still trusted by clients until it expires, so a CA rollover breaks no one. */
  previousCa?: string;
  serving: CertAndKey;
}

export interface Wanted {
  /** Subject common name of the serving certificate (its first DNS name). */
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  caValidityMs: number;
  servingValidityMs: number;
  /** Renew a certificate once less than this fraction of its lifetime is left (e.g. 1/3). */
  renewWhenLeft: number;
}

export type Outcome = 'kept' | 'created' | 'renewed';

interface EnsureResult {
  material: Material;
  ca: Outcome;
  serving: Outcome;
  /** Why something was made anew, for the log. Empty when everything was kept. */
  reasons: string[];
}

const DAY_MS = 86_400_000;
/** Certificates start this far in the past so a client whose clock lags a little still accepts them. */
const BACKDATE_MS = 5 * 60_000;
const CA_NAME = 'vigil-collector-ca';

/** Keeps what is still good, makes what is missing, renews what expires soon. Never throws on bad stored input. */
export function ensureMaterial(stored: StoredMaterial, wanted: Wanted, now: Date): EnsureResult {
  validateWanted(wanted);
  const reasons: string[] = [];
  const found = readCa(stored, now, wanted.renewWhenLeft);
  let ca: CertAndKey;
  let previousCa = found.previous;
  let caOutcome: Outcome;
  if (found.ca && !found.problem) {
    ca = found.ca;
    caOutcome = 'kept';
  } else {
    ca = makeCa(now, wanted.caValidityMs);
    caOutcome = found.ca || stored.caBundle ? 'renewed' : 'created';
    if (found.problem) reasons.push(`CA: ${found.problem}`);
    // The CA being replaced stays trusted until it expires: serving certificates it signed keep working
    // while clients pick up the new bundle. A CA that is unusable for any reason but age is not kept.
    previousCa = found.ca && found.renewOnlyForAge ? found.ca.cert : undefined;
  }

  let serving: CertAndKey;
  let servingOutcome: Outcome;
  const servingProblem = caOutcome === 'kept' ? checkServing(stored.serving, ca, wanted, now) : 'the CA was replaced';
  if (!servingProblem) {
    serving = stored.serving as CertAndKey;
    servingOutcome = 'kept';
  } else {
    serving = issueServing(ca, wanted, now);
    servingOutcome = stored.serving?.cert ? 'renewed' : 'created';
    if (stored.serving?.cert || caOutcome !== 'created') reasons.push(`serving certificate: ${servingProblem}`);
  }
  return { material: { ca, previousCa, serving }, ca: caOutcome, serving: servingOutcome, reasons };
}

/** What clients trust: the current CA, then the previous one while it is still valid. */
export function trustBundle(material: Material, now: Date): string {
  const certs = [material.ca.cert];
  if (material.previousCa && new Date(new X509Certificate(material.previousCa).validTo) > now) certs.push(material.previousCa);
  return certs.map((c) => c.trim() + '\n').join('');
}

/** The PEM certificates in a text, in order (anything between them is ignored). */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => c + '\n') ?? [];
}

export function makeCa(now: Date, validityMs: number): CertAndKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const cert = newCertificate(publicKey, now, validityMs);
  const subject = [{ shortName: 'O', value: 'vigil' }, { shortName: 'CN', value: CA_NAME }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(key) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: pem(cert), key };
}

export function issueServing(ca: CertAndKey, wanted: Wanted, now: Date): CertAndKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const cert = newCertificate(publicKey, now, Math.min(wanted.servingValidityMs, msUntil(ca.cert, now)));
  cert.setSubject([{ shortName: 'O', value: 'vigil' }, { shortName: 'CN', value: wanted.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...wanted.dnsNames.map((value) => ({ type: 2, value })),
        ...wanted.ipAddresses.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: pem(cert), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function newCertificate(publicKey: KeyObject, now: Date, validityMs: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // 16 random bytes with the top bit clear: a positive serial, unique without any bookkeeping.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + validityMs);
  return cert;
}

interface FoundCa {
  ca?: CertAndKey;
  previous?: string;
  /** Why the CA cannot be kept; undefined when it can. */
  problem?: string;
  /** The only problem is that it is close to expiry (so it may stay trusted as the previous CA). */
  renewOnlyForAge?: boolean;
}

function readCa(stored: StoredMaterial, now: Date, renewWhenLeft: number): FoundCa {
  if (!stored.caBundle && !stored.caKey) return { problem: undefined };
  if (!stored.caBundle || !stored.caKey) return { problem: 'certificate or key missing' };
  let key: KeyObject;
  try {
    key = createPublicKey(stored.caKey);
  } catch {
    return { problem: 'the key is not a readable PEM private key' };
  }
  const certs = splitPem(stored.caBundle);
  const parsed = certs.map((pem) => ({ pem, x509: parseCert(pem) }));
  const own = parsed.find((c) => c.x509 && sameKey(c.x509.publicKey, key));
  if (!own?.x509) return { problem: 'no certificate in the bundle matches the key' };
  const previous = parsed.find((c) => c !== own && c.x509 && new Date(c.x509.validTo) > now)?.pem;
  const ca = { cert: own.pem, key: stored.caKey };
  if (!own.x509.ca) return { ca, previous, problem: 'the certificate is not a CA' };
  const age = aging(own.x509, now, renewWhenLeft);
  if (age) return { ca, previous, problem: age.message, renewOnlyForAge: age.kind === 'due' };
  return { ca, previous };
}

/** Why the stored serving certificate cannot be kept under this CA for these names, or undefined. */
function checkServing(serving: Partial<CertAndKey> | undefined, ca: CertAndKey, wanted: Wanted, now: Date): string | undefined {
  if (!serving?.cert || !serving.key) return 'missing';
  const cert = parseCert(serving.cert);
  if (!cert) return 'not a readable PEM certificate';
  let key: KeyObject;
  try {
    key = createPublicKey(serving.key);
  } catch {
    return 'the key is not a readable PEM private key';
  }
  if (!sameKey(cert.publicKey, key)) return 'the key does not match the certificate';
  const caCert = new X509Certificate(ca.cert);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'not issued by the current CA';
  const have = sanSet(cert);
  const want = new Set([...wanted.dnsNames.map((d) => `DNS:${d}`), ...wanted.ipAddresses.map((ip) => `IP:${normalizeIp(ip)}`)]);
  if (have.size !== want.size || [...want].some((n) => !have.has(n))) {
    return `names differ (has ${[...have].sort().join(', ')}; wanted ${[...want].sort().join(', ')})`;
  }
  return aging(cert, now, wanted.renewWhenLeft)?.message;
}

interface Aging {
  /** `due`: still valid, but less than the renewal fraction of its lifetime is left. */
  kind: 'not-yet-valid' | 'expired' | 'due';
  message: string;
}

function aging(cert: X509Certificate, now: Date, renewWhenLeft: number): Aging | undefined {
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  const t = now.getTime();
  if (t < from) return { kind: 'not-yet-valid', message: `not valid yet (from ${new Date(from).toISOString()})` };
  if (t >= to) return { kind: 'expired', message: `expired on ${new Date(to).toISOString()}` };
  if (to - t < (to - from) * renewWhenLeft) return { kind: 'due', message: `expires on ${new Date(to).toISOString()}, renewed ahead of time` };
  return undefined;
}

function parseCert(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

/** `DNS:name` and `IP:addr` entries of a certificate's subjectAltName. */
export function sanSet(cert: X509Certificate): Set<string> {
  const text = cert.subjectAltName ?? '';
  return new Set(text.split(/,\s*/).filter(Boolean).map((entry) => {
    const m = /^IP Address:(.*)$/.exec(entry);
    return m ? `IP:${normalizeIp(m[1])}` : entry;
  }));
}

/** One spelling per address (IPv6 has many), so names in a certificate compare with names asked for. */
function normalizeIp(ip: string): string {
  const address = ip.trim();
  const family = isIP(address);
  return family === 0 ? address : new SocketAddress({ address, family: family === 6 ? 'ipv6' : 'ipv4' }).address;
}

function msUntil(certPem: string, now: Date): number {
  return new Date(new X509Certificate(certPem).validTo).getTime() - now.getTime();
}

function validateWanted(w: Wanted): void {
  if (w.dnsNames.length === 0) throw new Error('a serving certificate needs at least one DNS name');
  for (const d of w.dnsNames) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(d) || d.length > 253) {
      throw new Error(`"${d}" is not a DNS name (lowercase letters, digits, "-" and ".")`);
    }
  }
  for (const ip of w.ipAddresses) if (!isIP(ip)) throw new Error(`"${ip}" is not an IP address`);
  if (!(w.servingValidityMs >= DAY_MS)) throw new Error('the serving certificate must be valid for at least a day');
  if (!(w.caValidityMs > w.servingValidityMs)) throw new Error('the CA must outlive the serving certificate');
  if (!(w.renewWhenLeft > 0 && w.renewWhenLeft < 1)) throw new Error('renewWhenLeft must be between 0 and 1');
}

/** forge writes CRLF line ends; everything else here (Node, kubectl, files) uses LF. */
function pem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}
