// What the daemon needs from a transport, what a transport reports back, and how the configured ones are made.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { WireHeartbeat } from '../../proto/wire.js';
import { GrpcSender } from './grpc-client.js';
import type { Outbox } from './outbox.js';

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

export interface TransportConfig {
  choice: 'grpc' | 'nats' | 'both';
  collector?: string;
  insecure?: boolean;
  tlsServerName?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  natsUrl?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

/** The transports the options ask for, not started yet; all drain the one outbox. */
export async function createTransports(
  config: TransportConfig, ctx: { outbox: Outbox; node: string; cluster: string; log: Logger }, events: TransportEvents,
): Promise<Transport[]> {
  const transports: Transport[] = [];
  if (config.choice !== 'nats') {
    transports.push(new GrpcSender({
      target: config.collector!, insecure: config.insecure, serverName: config.tlsServerName,
      tls: config.insecure ? undefined : { ca: readFileSync(config.tlsCa!), cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) },
      ...ctx, ...events,
    }));
  }
  if (config.choice !== 'grpc') {
    // Loaded only when used: the NATS client is a few MiB of resident memory on every node otherwise.
    const { NatsPublisher } = await import('./nats-publisher.js');
    transports.push(new NatsPublisher({
      nats: { url: config.natsUrl!, credsFile: config.natsCreds, tlsCa: config.natsTlsCa, tlsCert: config.natsTlsCert, tlsKey: config.natsTlsKey, name: `vigil-agent-${ctx.node}` },
      ...ctx, ...events,
    }));
  }
  return transports;
}
