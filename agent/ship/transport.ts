// What the daemon needs from a transport, and what a transport reports back.
import type { WireHeartbeat } from '../../proto/wire.js';

export interface Transport {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
}

export interface TransportEvents {
  /** A (re)connection after the first one. */
  onReconnect?(transport: string): void;
  /** The collector refused a message for good (invalid); it is dropped from the outbox. */
  onRejected?(transport: string, seq: number, reason: string): void;
  /** The collector asked for a full snapshot. */
  onResync?(reason: string): void;
  heartbeat?(): WireHeartbeat;
}

export interface TlsFiles { ca: Buffer; cert: Buffer; key: Buffer }
