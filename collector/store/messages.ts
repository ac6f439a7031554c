// What the store applies: validated ingest messages (full snapshots and deltas) and what each one did.
// Every transport (HTTP, gRPC, NATS) produces these through the ingest layer; the store only consumes them.
import type { Finding, NodeReport } from '../../proto/report.js';

/** A full snapshot replaces the node's current findings; findings absent from it become resolved. */
export interface FullReportMessage {
  kind: 'full';
  node: string;
  /** Per-agent monotonically increasing sequence number; undefined for one-shot HTTP posts (always applied). */
  seq?: number;
  report: NodeReport;
}

/** A delta: findings added or changed, and ids of findings resolved since the previous message. */
export interface DeltaMessage {
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
}
