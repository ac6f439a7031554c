// What a transport is to the agent: a component (its options, when it is wanted, how it is made) and the
// running sender it makes, which drains the one outbox and reports back through TransportEvents.
import type { Option } from 'commander';
import type { Logger } from 'pino';
import type { WireHeartbeat } from '../../../proto/wire.js';
import type { Outbox } from '../outbox.js';
import type { TokenFile } from '../token.js';

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

/** The CA of the collector's certificate, and a client certificate and key when the agent proves its node with one. */
export interface TlsFiles { ca: Buffer; cert?: Buffer; key?: Buffer }

/** `vigil-agent run`'s option values (camelCase keys), as commander parsed them. */
export type OptionValues = Readonly<Record<string, unknown>>;

export interface TransportContext {
  outbox: Outbox;
  node: string;
  cluster: string;
  log: Logger;
  events: TransportEvents;
  /** The agent's ServiceAccount token (--token-file), sent on every transport; undefined when there is none. */
  token?: TokenFile;
}

/** One transport, registered in agent/ship/transports/index.ts. */
export interface TransportComponent {
  /** Its `--transport` name, also its cursor name in the outbox's state file (keep it stable). */
  readonly name: string;
  /** The option that makes it configured, for messages: `--collector HOST:PORT`. */
  readonly requires: string;
  /** Its options on `vigil-agent run`. */
  options(): Option[];
  /** Whether the options given are enough to use it: without --transport, every such transport is used. */
  configured(values: OptionValues): boolean;
  /** Throws a message naming what is missing when it is asked for but cannot work. */
  check(values: OptionValues): void;
  /** Makes it, not started (reads its files, checks node and cluster names); throws on what cannot work. */
  create(values: OptionValues, ctx: TransportContext): Promise<Transport>;
}
