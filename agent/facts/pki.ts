// Certificates and keys found in the node's PKI dirs and on component command lines.
// Key material never leaves gather: only facts about it (type, size, mode, which cert it matches).
import type { FileFact, GatherError } from './file.js';

export interface CertificateFact {
  path: string;
  /** Position of this certificate in its file (0-based) and how many the file holds: a bundle is judged cert by cert. */
  index: number;
  count: number;
  file: FileFact;
  /** Other paths with the same content (e.g. kubelet-client-current.pem, a symlink to a dated file). */
  aliases?: string[];
  /** RFC 2253-like, comma-separated (`CN=kube-apiserver, O=...`). */
  subject?: string;
  issuer?: string;
  serialNumber?: string;
  /** ISO 8601. */
  notBefore?: string;
  notAfter?: string;
  isCA?: boolean;
  /** Issuer equals subject and the certificate verifies with its own key. */
  selfSigned?: boolean;
  /** `rsa`, `rsa-pss`, `ec`, `ed25519`, `ed448`, `dsa`. */
  keyType?: string;
  keyBits?: number;
  /** Curve of an EC key (`prime256v1`, ...). */
  curve?: string;
  signatureAlgorithm?: string;
  /** `DNS:name`, `IP Address:1.2.3.4`, ... as the certificate lists them. */
  sans: string[];
  fingerprint256?: string;
  /** Which component flag or setting named the file (e.g. `kube-apiserver --tls-cert-file`). */
  usedBy: string[];
  error?: GatherError;
}

export interface KeyFact {
  path: string;
  /** Position of this key in its file (0-based). */
  index: number;
  file: FileFact;
  aliases?: string[];
  /** `private` keys must be mode 600 or tighter and match their certificate; `public` ones (sa.pub) are judged on size only. */
  kind: 'private' | 'public';
  /** Encrypted with a passphrase: type, size and match cannot be read. */
  encrypted?: boolean;
  keyType?: string;
  keyBits?: number;
  curve?: string;
  /** Path of a certificate (or, for sa.key, the public key) on the node with this key's public half. */
  matchesCertificate?: string;
  /** The certificate (or public key) this key is configured or named with: same file, flag pair, or same base name. */
  pairedWith?: string;
  /** How that pairing was found. */
  pairedBy?: 'same-file' | 'flags' | 'file-name';
  /** Whether the paired certificate carries this key's public half. */
  pairMatches?: boolean;
  usedBy: string[];
  error?: GatherError;
}
