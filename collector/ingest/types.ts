// The collector's one ingest entry point. HTTP (POST /api/v1/reports), gRPC and NATS all call it.
import type { IngestMessage, IngestResult } from '../store/messages.js';
import type { SeqPosition } from '../store/types.js';

export type { FullReportMessage, IngestMessage, IngestResult } from '../store/messages.js';

export interface Ingestor {
  /** Validates, dedupes by (node, seq) and stores atomically. Throws IngestValidationError on bad input. */
  ingest(message: IngestMessage): Promise<IngestResult>;
  /** Highest seq stored for a node (so a restarted agent or collector knows where it stands). */
  lastSeq(node: string): Promise<number | undefined>;
  /** Where a node's message order stands: its epoch and last seq. */
  position(node: string): Promise<SeqPosition | undefined>;
}

export class IngestValidationError extends Error {
  constructor(message: string, readonly issues: string[] = []) {
    super(message);
    this.name = 'IngestValidationError';
  }
}

/** A message for a node only the collector's own sources may write (the cluster's API findings). */
export class ReservedNodeError extends IngestValidationError {
  /** Answered as 403 over HTTP. */
  readonly statusCode = 403;
  constructor(node: string) {
    super(`node ${JSON.stringify(node)} is reserved for the collector's own findings; no agent may report for it`, ['node: reserved']);
    this.name = 'ReservedNodeError';
  }
}
