// X.509 certificates for tests, built in-process: a small DER encoder plus node:crypto signing, so a test can
// ask for exactly the weakness it judges (RSA 1024, SHA-1 or MD5 signatures, expired, not yet valid, a CA or a
// leaf, SANs) in milliseconds and with no openssl policy in the way. Test material only: weak on purpose.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

type CertHash = 'sha1' | 'sha256' | 'md5';

interface CertOptions {
  /** Common name; `O=` can be added with `organization`. */
  cn: string;
  organization?: string;
  /** Signing CA; self-signed when absent. */
  issuer?: GeneratedCert;
  keyType?: 'rsa' | 'ec';
  /** RSA modulus length (default 2048). */
  rsaBits?: number;
  hash?: CertHash;
  notBefore?: Date;
  notAfter?: Date;
  isCA?: boolean;
  /** `DNS:name` or `IP:1.2.3.4` / `IP:::1`. */
  sans?: string[];
  /** Use this key pair instead of generating one (to build a cert that does, or does not, match a key). */
  keyPair?: { publicKey: KeyObject; privateKey: KeyObject };
}

export interface GeneratedCert {
  certPem: string;
  /** PKCS#8 PEM (`PRIVATE KEY`). */
  keyPem: string;
  /** PKCS#1 PEM (`RSA PRIVATE KEY`, as kubeadm writes keys); EC keys in SEC1 (`EC PRIVATE KEY`). */
  keyPemTraditional: string;
  publicKeyPem: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
  subjectDer: Buffer;
}

const DAY = 86_400_000;

// --- DER ---------------------------------------------------------------------------------------------------
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, ...c);
const nul = () => Buffer.from([0x05, 0x00]);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

function integer(b: Buffer): Buffer {
  let v = b;
  while (v.length > 1 && v[0] === 0 && v[1] < 0x80) v = v.subarray(1);
  if (v[0] >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

function name(cn: string, organization?: string): Buffer {
  const rdns = [];
  if (organization) rdns.push(set(seq(oid('2.5.4.10'), utf8(organization))));
  rdns.push(set(seq(oid('2.5.4.3'), utf8(cn))));
  return seq(...rdns);
}

function generalName(san: string): Buffer {
  const [kind, ...rest] = san.split(':');
  const value = rest.join(':');
  if (kind === 'DNS') return tlv(0x82, Buffer.from(value, 'ascii'));
  if (kind === 'URI') return tlv(0x86, Buffer.from(value, 'ascii'));
  if (kind === 'IP' && isIP(value) === 4) return tlv(0x87, Buffer.from(value.split('.').map(Number)));
  if (kind === 'IP' && isIP(value) === 6) return tlv(0x87, ipv6Bytes(value));
  throw new Error(`unsupported SAN ${san}`);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.flatMap((g) => { const n = parseInt(g, 16); return [n >> 8, n & 0xff]; }));
}

function signatureAlgorithm(keyType: 'rsa' | 'ec', hash: CertHash): Buffer {
  if (keyType === 'ec') {
    if (hash === 'md5') throw new Error('ECDSA with MD5 does not exist');
    return seq(oid(hash === 'sha1' ? '1.2.840.10045.4.1' : '1.2.840.10045.4.3.2'));
  }
  const rsa = { md5: '1.2.840.113549.1.1.4', sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11' }[hash];
  return seq(oid(rsa), nul());
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

let serial = 1;

/** A certificate as asked. Defaults: RSA 2048, SHA-256, valid from an hour ago for 365 days, leaf, self-signed. */
export function makeCert(opts: CertOptions): GeneratedCert {
  const keyType = opts.keyType ?? 'rsa';
  const hash = opts.hash ?? 'sha256';
  const keys = opts.keyPair ?? (keyType === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: opts.rsaBits ?? 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - 3600_000);
  const notAfter = opts.notAfter ?? new Date(now + 365 * DAY);
  const subjectDer = name(opts.cn, opts.organization);
  const issuerDer = opts.issuer?.subjectDer ?? subjectDer;
  const signer = opts.issuer?.privateKey ?? keys.privateKey;
  const signerType = signer.asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
  const algorithm = signatureAlgorithm(signerType, hash);

  const extensions = [seq(oid('2.5.29.19'), bool(true), octets(opts.isCA ? seq(bool(true)) : seq()))];
  if (opts.isCA) extensions.push(seq(oid('2.5.29.15'), bool(true), octets(bitString(Buffer.from([0x06]))))); // keyCertSign, cRLSign
  if (opts.sans?.length) extensions.push(seq(oid('2.5.29.17'), octets(seq(...opts.sans.map(generalName)))));

  const serialBytes = Buffer.alloc(8);
  serialBytes.writeUInt32BE(Math.floor(now / 1000) >>> 0, 0);
  serialBytes.writeUInt32BE(serial++, 4);
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serialBytes),
    algorithm,
    issuerDer,
    seq(time(notBefore), time(notAfter)),
    subjectDer,
    keys.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign(hash, tbs, signer);
  const cert = seq(tbs, algorithm, bitString(signature));
  return {
    certPem: pem('CERTIFICATE', cert),
    keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyPemTraditional: keys.privateKey.export({ type: keyType === 'rsa' ? 'pkcs1' : 'sec1', format: 'pem' }).toString(),
    publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
    subjectDer,
  };
}

export const daysFromNow = (days: number): Date => new Date(Date.now() + days * DAY);
