// What a transport is to the collector: a component (its serve options, when it is wanted, how it starts)
// whose receiver decodes and authenticates agent messages, hands them to the DeliveryIngestor, and relays
// its answers (ack, reject, resync, retry) in the transport's own terms.
import type { Option } from 'commander';
import type { Logger } from 'pino';
import type { DeliveryIngestor } from '../ingestor.js';
import type { ServiceAccountVerifier } from '../service-accounts.js';

/** `vigil-collector serve`'s option values (camelCase keys), as commander parsed them. */
export type OptionValues = Readonly<Record<string, unknown>>;

export interface ReceiverContext {
  delivery: DeliveryIngestor;
  log: Logger;
  /** Verifies agents' ServiceAccount tokens (--sa-issuer …); undefined when none are accepted. */
  serviceAccounts?: ServiceAccountVerifier;
}

/** A running transport on the collector's side: receives, authenticates, hands over to the DeliveryIngestor. */
export interface Receiver {
  readonly name: string;
  /** Starts listening or consuming; throws when it cannot (address in use). */
  start(): Promise<void>;
  /** Stops taking messages; what is in hand is finished or left to be delivered again. */
  close(): Promise<void>;
}

/** One transport, registered in collector/ingest/transports.ts. */
export interface IngestTransport {
  readonly name: string;
  /** Its options on `vigil-collector serve`. */
  options(): Option[];
  /** Whether the options ask for it (its listen address or server URL is given). */
  enabled(values: OptionValues): boolean;
  /** Makes its receiver, not started; throws on options that cannot work (TLS, listen address). */
  create(values: OptionValues, ctx: ReceiverContext): Receiver;
}
