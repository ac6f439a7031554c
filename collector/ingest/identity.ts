// Who is calling, as each ingest path establishes it, in one shape: a ServiceAccount token bound to a node, a
// client certificate naming one node, a static REST token (optionally bound to nodes), or nothing at all
// (--no-auth, --insecure, a NATS subject taken on trust). What a caller may write is decided from this alone.
import type { PeerCertificate } from 'node:tls';
import type { Writer } from '../store/messages.js';
import type { ServiceAccountIdentity } from './service-accounts.js';

export interface CallerIdentity extends Writer {
  /** The nodes it may speak for; undefined: any node (a trusted path, an import token). */
  nodes?: readonly string[];
  /** For logs: the token's pod and node, the certificate's names. */
  detail?: Record<string, unknown>;
  /** When the credential stops being valid (ms): a stream authenticated by it ends then. */
  expiresAt?: number;
}

/** What the store keeps of a caller: kind, subject, and whether it is tied to the node. */
export function writerOf(caller: CallerIdentity): Writer {
  return { kind: caller.kind, subject: caller.subject, bound: caller.bound, ...(caller.anyNode ? { anyNode: true } : {}) };
}

export function serviceAccountCaller(sa: ServiceAccountIdentity): CallerIdentity {
  return {
    kind: 'service-account', subject: sa.subject, bound: true, nodes: [sa.node], expiresAt: sa.expiresAt,
    detail: { subject: sa.subject, pod: sa.pod, node: sa.node, ...(sa.jti ? { credential: `JTI=${sa.jti}` } : {}) },
  };
}

/** A caller the transport takes on trust (no credential): it may write only nodes no identity is bound to. */
export function untrustedCaller(subject: string, nodes?: readonly string[]): CallerIdentity {
  return { kind: 'none', subject, bound: false, nodes };
}

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/**
 * The node a verified client certificate speaks for: its single DNS subject alternative name, or its CN when it
 * has no DNS name. A certificate naming several nodes, or not made for client authentication (no clientAuth
 * extended key usage), names none: the reason says why.
 */
export function certificateCaller(cert: PeerCertificate): CallerIdentity | { refused: string } {
  const usages = (cert as PeerCertificate & { ext_key_usage?: string[] }).ext_key_usage ?? [];
  if (!usages.includes(CLIENT_AUTH_OID)) return { refused: 'client certificate lacks the clientAuth extended key usage' };
  const dns = (cert.subjectaltname ?? '').split(',').map((p) => /^\s*DNS:(.+)$/.exec(p)?.[1]?.trim()).filter((n): n is string => Boolean(n));
  const cn = cert.subject?.CN as string | string[] | undefined;
  const cns = Array.isArray(cn) ? cn : cn ? [cn] : [];
  if (dns.length > 1) return { refused: `client certificate names several nodes (${dns.join(', ')})` };
  if (dns.length === 1) return certified(dns[0], `DNS:${dns[0]}`);
  if (cns.length === 1) return certified(cns[0], `CN=${cns[0]}`);
  return { refused: cns.length > 1 ? 'client certificate has several common names' : 'client certificate names no node' };
}

function certified(node: string, subject: string): CallerIdentity {
  return { kind: 'certificate', subject, bound: true, nodes: [node], detail: { certificate: subject } };
}
