// Certificates and keys of the node: parsed with node:crypto, judged later from facts only. Private key
// objects exist only inside this function; what leaves is type, size, file mode and which cert matches.
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as path from 'node:path';
import type { HostAccess } from '../host.js';
import { redactUrl } from '../../../common/address.js';
import type { ComponentFact, ComponentName, GatherError, KubeletConfigFact } from '../../facts/snapshot.js';
import { MAX_PKI_FILE_BYTES, pkiCandidates, type NamedPair, type PkiCandidate } from './discovery.js';
import { isCertificateLabel, isPrivateKeyLabel, isPublicKeyLabel, pemBlocks } from './pem.js';
import { signatureAlgorithm } from './der.js';
import type { CertificateFact, KeyFact } from '../../facts/pki.js';

const MAX_FILES = 5000;

/** Public halves, by fact, to compare keys with certificates; never leaves this module. */
type Spki = Map<CertificateFact | KeyFact, string>;

export function gatherPki(
  host: HostAccess,
  components: Partial<Record<ComponentName, ComponentFact>>,
  kubelet: KubeletConfigFact | undefined,
): { certificates: CertificateFact[]; keys: KeyFact[] } {
  const { candidates, pairs } = pkiCandidates(host, components, kubelet);
  const certificates: CertificateFact[] = [];
  const keys: KeyFact[] = [];
  const spki: Spki = new Map();
  const byContent = new Map<string, { certs: CertificateFact[]; keys: KeyFact[] }>();

  for (const candidate of candidates.slice(0, MAX_FILES)) {
    // Parsing is remembered across scans while the file is unchanged: a rescan of a PKI dir costs one fstat per file.
    const read = host.readDerived(candidate.path, MAX_PKI_FILE_BYTES, parsePkiFile);
    if (!read.ok) {
      if (candidate.named) pushError(candidate, read.error, host, certificates, keys);
      continue;
    }
    const parsed = read.value;
    // Same bytes in the same dir: a symlink such as kubelet-client-current.pem. Copies elsewhere stay separate
    // facts, since each may be paired with a different certificate.
    const digest = `${path.posix.dirname(candidate.path)}:${parsed.digest}`;
    const same = byContent.get(digest);
    if (same) {
      for (const f of [...same.certs, ...same.keys]) {
        (f.aliases ??= []).push(candidate.path);
        for (const u of candidate.usedBy) if (!f.usedBy.includes(u)) f.usedBy.push(u);
      }
      continue;
    }
    if (parsed.certs.length === 0 && parsed.keys.length === 0) {
      if (candidate.named) {
        pushError(candidate, { path: candidate.path, code: 'EINVAL', message: 'no PEM certificate or key in the file' }, host, certificates, keys);
      }
      continue;
    }
    const file = host.stat(candidate.path);
    const found = { certs: [] as CertificateFact[], keys: [] as KeyFact[] };
    parsed.certs.forEach((cert, index) => {
      const fact: CertificateFact = { path: candidate.path, index, count: parsed.certs.length, file, ...structuredClone(cert.fact), usedBy: [...candidate.usedBy] };
      if (cert.parseError !== undefined) {
        fact.error = { path: candidate.path, code: 'EINVAL', message: `certificate #${index + 1} does not parse: ${cert.parseError}` };
      }
      if (cert.spki) spki.set(fact, cert.spki);
      found.certs.push(fact);
      certificates.push(fact);
    });
    parsed.keys.forEach((key, index) => {
      const fact: KeyFact = { path: candidate.path, index, file, ...structuredClone(key.fact), usedBy: [...candidate.usedBy] };
      // The parser's message can quote the input: say only that it did not parse.
      if (key.unparsable) fact.error = { path: candidate.path, code: 'EINVAL', message: `${fact.kind} key #${index + 1} does not parse` };
      if (key.spki) spki.set(fact, key.spki);
      found.keys.push(fact);
      keys.push(fact);
    });
    byContent.set(digest, found);
  }
  matchKeys(certificates, keys, pairs, spki);
  return { certificates, keys };
}

function pushError(c: PkiCandidate, error: GatherError, host: HostAccess, certs: CertificateFact[], keys: KeyFact[]): void {
  const file = host.stat(c.path);
  if (c.expect === 'key') keys.push({ path: c.path, index: 0, file, kind: 'private', usedBy: [...c.usedBy], error });
  else certs.push({ path: c.path, index: 0, count: 0, file, sans: [], usedBy: [...c.usedBy], error });
}

type ParsedCert = { fact: Omit<CertificateFact, 'path' | 'index' | 'count' | 'file' | 'usedBy'>; spki?: string; parseError?: string };
type ParsedKey = { fact: Omit<KeyFact, 'path' | 'index' | 'file' | 'usedBy'>; spki?: string; unparsable?: boolean };
interface ParsedPkiFile { digest: string; certs: ParsedCert[]; keys: ParsedKey[] }

/** Everything the checks need from one file's bytes. Cached by HostAccess.readDerived, so it returns plain data. */
function parsePkiFile(data: Buffer): ParsedPkiFile {
  const blocks = pemBlocks(data.toString('latin1'));
  return {
    digest: createHash('sha256').update(data).digest('hex'),
    certs: blocks.filter((b) => isCertificateLabel(b.label)).map((b) => parseCertificate(b.der)),
    keys: blocks.filter((b) => isPrivateKeyLabel(b.label) || isPublicKeyLabel(b.label)).map((b) => parseKey(b.label, b.text, b.encrypted)),
  };
}

function parseCertificate(der: Buffer): ParsedCert {
  const fact: ParsedCert['fact'] = { sans: [] };
  let spki: string;
  try {
    const x = new X509Certificate(der);
    fact.subject = dn(x.subject);
    fact.issuer = dn(x.issuer);
    fact.serialNumber = x.serialNumber;
    fact.notBefore = isoDate(x.validFrom);
    fact.notAfter = isoDate(x.validTo);
    fact.isCA = x.ca;
    fact.selfSigned = x.checkIssued(x) && safeVerify(x);
    Object.assign(fact, keyDetails(x.publicKey));
    // A URI SAN can carry userinfo like any URL: it never leaves gather.
    fact.sans = x.subjectAltName ? x.subjectAltName.split(', ').filter(Boolean).map(redactUrl) : [];
    fact.fingerprint256 = x.fingerprint256;
    spki = spkiDigest(x.publicKey);
  } catch (err) {
    return { fact, parseError: (err as Error).message };
  }
  try {
    fact.signatureAlgorithm = signatureAlgorithm(der);
  } catch { /* node parsed it, so the outer structure is sound; leave the algorithm unknown */ }
  return { fact, spki };
}

function parseKey(label: string, pem: string, encrypted: boolean): ParsedKey {
  const kind = isPublicKeyLabel(label) ? 'public' : 'private';
  if (encrypted || label === 'ENCRYPTED PRIVATE KEY') return { fact: { kind, encrypted: true } };
  try {
    const pub = kind === 'public' ? createPublicKey(pem) : createPublicKey(createPrivateKey(pem));
    return { fact: { kind, ...keyDetails(pub) }, spki: spkiDigest(pub) };
  } catch {
    return { fact: { kind }, unparsable: true };
  }
}

function keyDetails(key: KeyObject): Pick<CertificateFact, 'keyType' | 'keyBits' | 'curve'> {
  const out: Pick<CertificateFact, 'keyType' | 'keyBits' | 'curve'> = { keyType: key.asymmetricKeyType };
  const d = key.asymmetricKeyDetails;
  if (d?.modulusLength) out.keyBits = d.modulusLength;
  if (d?.namedCurve) {
    out.curve = d.namedCurve;
    out.keyBits = CURVE_BITS[d.namedCurve];
  }
  if (key.asymmetricKeyType === 'ed25519') out.keyBits = 256;
  if (key.asymmetricKeyType === 'ed448') out.keyBits = 456;
  return out;
}

const CURVE_BITS: Record<string, number> = {
  prime192v1: 192, secp224r1: 224, prime256v1: 256, secp256k1: 256, secp384r1: 384, secp521r1: 521,
};

function spkiDigest(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

function safeVerify(x: X509Certificate): boolean {
  try { return x.verify(x.publicKey); } catch { return false; }
}

/** `CN=a\nO=b` (node's form) → `CN=a, O=b`. */
function dn(s: string): string {
  return s.split('\n').filter(Boolean).join(', ');
}

function isoDate(s: string): string | undefined {
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Which cert carries each key's public half, and whether the cert the key is configured with does. */
function matchKeys(certs: CertificateFact[], keys: KeyFact[], pairs: NamedPair[], spki: Spki): void {
  const leafFirst = [...certs].sort((a, b) => Number(a.isCA ?? false) - Number(b.isCA ?? false));
  for (const key of keys) {
    const digest = spki.get(key);
    if (key.kind !== 'private' || digest === undefined) continue;
    const match = leafFirst.find((c) => spki.get(c) === digest)
      ?? keys.find((k) => k.kind === 'public' && spki.get(k) === digest);
    if (match) key.matchesCertificate = match.path;

    const paired = pairFor(key, certs, keys, pairs);
    if (!paired) continue;
    key.pairedWith = paired.target.path;
    key.pairedBy = paired.by;
    const pairDigest = spki.get(paired.target);
    if (pairDigest !== undefined) key.pairMatches = pairDigest === digest;
  }
}

function pairFor(
  key: KeyFact, certs: CertificateFact[], keys: KeyFact[], pairs: NamedPair[],
): { target: CertificateFact | KeyFact; by: NonNullable<KeyFact['pairedBy']> } | undefined {
  const paths = [key.path, ...(key.aliases ?? [])];
  const inFile = certs.find((c) => c.path === key.path && c.index === 0);
  if (inFile) return { target: inFile, by: 'same-file' };
  const named = pairs.find((p) => paths.includes(p.key));
  if (named) {
    const cert = certs.find((c) => c.path === named.cert || c.aliases?.includes(named.cert));
    if (cert) return { target: cert, by: 'flags' };
  }
  // kubeadm's apiserver.crt / apiserver.key, cfssl's node.pem / node-key.pem, sa.key / sa.pub.
  const dir = path.posix.dirname(key.path);
  const base = path.posix.basename(key.path).replace(/(-key)?\.(key|pem)$/, '');
  const siblings = ['.crt', '.pem', '.cert', '.cer'].map((ext) => path.posix.join(dir, base + ext)).filter((p) => p !== key.path);
  const cert = certs.find((c) => siblings.includes(c.path) && c.index === 0);
  if (cert) return { target: cert, by: 'file-name' };
  const pub = keys.find((k) => k.kind === 'public' && k.path === path.posix.join(dir, `${base}.pub`));
  return pub ? { target: pub, by: 'file-name' } : undefined;
}
