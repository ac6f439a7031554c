// Certificates and keys found in the node's PKI dirs and on component command lines.
// Key material never leaves gather: only facts about it (type, size, mode, which cert it matches).
import type { FileFact, GatherError } from '../../snapshot.js';

export interface CertificateFact {
  path: string;
  file: FileFact;
  subject?: string;
  issuer?: string;
  notBefore?: string;
  notAfter?: string;
  isCA?: boolean;
  keyType?: string;
  keyBits?: number;
  signatureAlgorithm?: string;
  sans: string[];
  /** Which component flag named it, if any (e.g. `kube-apiserver --tls-cert-file`). */
  usedBy: string[];
  error?: GatherError;
}

export interface KeyFact {
  path: string;
  file: FileFact;
  keyType?: string;
  keyBits?: number;
  /** Path of the certificate whose public key matches, if found. */
  matchesCertificate?: string;
  usedBy: string[];
  error?: GatherError;
}
