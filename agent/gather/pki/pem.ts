// PEM blocks of a file: a certificate bundle, a key, or both (the kubelet's kubelet-client-current.pem).
interface PemBlock {
  /** The label between BEGIN and END, e.g. `CERTIFICATE`, `RSA PRIVATE KEY`. */
  label: string;
  /** The whole block, headers included, as text: what node:crypto parses. */
  text: string;
  der: Buffer;
  /** RFC 1421 `Proc-Type: 4,ENCRYPTED` (legacy OpenSSL encrypted keys). */
  encrypted: boolean;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const MAX_BLOCKS = 1000;

export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (blocks.length >= MAX_BLOCKS) break;
    const [whole, label, body] = m;
    const lines = body.split(/\r?\n/);
    const encrypted = lines.some((l) => /^Proc-Type:\s*4,ENCRYPTED/i.test(l));
    const base64 = lines.filter((l) => !l.includes(':')).join('').replace(/\s+/g, '');
    blocks.push({ label, text: whole + '\n', der: Buffer.from(base64, 'base64'), encrypted });
  }
  return blocks;
}

export const isCertificateLabel = (label: string): boolean => label === 'CERTIFICATE' || label === 'TRUSTED CERTIFICATE';
export const isPrivateKeyLabel = (label: string): boolean => /(^| )PRIVATE KEY$/.test(label);
export const isPublicKeyLabel = (label: string): boolean => label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY';
