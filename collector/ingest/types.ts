// The collector's one ingest entry point. HTTP (POST /api/v1/reports), gRPC and NATS all call it.
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

export interface Ingestor {
  /** Validates, dedupes by (node, seq) and stores atomically. Throws IngestValidationError on bad input. */
  ingest(message: IngestMessage): Promise<IngestResult>;
  /** Highest seq stored for a node (so a restarted agent or collector knows where it stands). */
  lastSeq(node: string): Promise<number | undefined>;
}

export class IngestValidationError extends Error {
  constructor(message: string, readonly issues: string[] = []) {
    super(message);
    this.name = 'IngestValidationError';
  }
}
