// What the store applies: validated ingest messages (full snapshots and deltas) and what each one did.
// Every transport (HTTP, gRPC, NATS) produces these through the ingest layer; the store only consumes them.
import type { Finding, NodeReport } from '../../proto/report.js';

export const IDENTITY_KINDS = ['service-account', 'certificate', 'token', 'none'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/** Who wrote a message, as the ingest layer established it. */
export interface Writer {
  /** A ServiceAccount token, a client certificate, a static REST token, or nothing (--no-auth, --insecure, NATS subject). */
  kind: IdentityKind;
  /** How logs and the node's record name it: the token's subject and pod, the certificate's name, the token's name. */
  subject: string;
  /** Tied to this node (a token or certificate naming it, a REST token bound to it): the node becomes bound. */
  bound: boolean;
  /** An explicit import token (`nodes=*`): may write any node, bound ones too, without binding it. */
  anyNode?: boolean;
}

interface Sequenced {
  /** Per-agent monotonically increasing sequence number; undefined for one-shot HTTP posts (always applied). */
  seq?: number;
  /** The agent run's numbering; ordering is by (epoch, seq). Undefined or '' from agents that predate epochs. */
  epoch?: string;
  /** Undefined: a caller inside the collector (tests, tools), neither checked nor recorded. */
  writer?: Writer;
}

/** A full snapshot replaces the node's current findings; findings absent from it become resolved. */
export interface FullReportMessage extends Sequenced {
  kind: 'full';
  node: string;
  report: NodeReport;
}

/** A delta: findings added or changed, and ids of findings resolved since the previous message. */
export interface DeltaMessage extends Sequenced {
  kind: 'delta';
  node: string;
  seq: number;
  scannedAt: string;
  upserts: Finding[];
  resolved: string[];
}

export type IngestMessage = FullReportMessage | DeltaMessage;

export interface IngestResult {
  /** False when (node, seq) was already stored: the message was a duplicate and changed nothing. */
  applied: boolean;
  duplicate: boolean;
  /** Highest sequence number stored for the node after this message. */
  lastSeq?: number;
  /** A message of an epoch the node has left, newer than what is stored (duplicate is true too): ignored. */
  stale?: boolean;
  /** Not stored, never will be: its seq is too far ahead, or its writer may not write this (bound) node. */
  refused?: { reason: 'seq-window' | 'bound-node'; message: string };
}
