// The collector's streaming transports (gRPC over mTLS, NATS JetStream), their command-line options,
// and their counters. `vigil-collector serve` adds the options and calls startTransports with its Ingestor.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { Counter, register as defaultRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../proto/wire.js';
import { startGrpcIngestServer } from './grpc-server.js';
import { DEFAULT_DURABLE, startNatsConsumer } from './nats-consumer.js';
import type { Ingestor } from './types.js';

export interface TransportOptions {
  grpcListen?: string;
  natsUrl?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  natsDurable?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  grpcMaxMessageBytes?: number;
}

function parseBytes(value: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?B?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a size like 33554432, 32Mi or 1Gi');
  const unit = { ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as 'ki' | 'mi' | 'gi'] ?? 1;
  return Number(m[1]) * unit;
}

/** Options for `vigil-collector serve`: `for (const o of transportOptions()) cmd.addOption(o)`. */
export function transportOptions(): Option[] {
  return [
    new Option('--grpc-listen <addr>', 'accept agent streams over gRPC on HOST:PORT (mTLS unless --insecure)'),
    new Option('--nats-url <url>', 'consume agent messages from NATS JetStream (stream VIGIL_FINDINGS)'),
    new Option('--nats-creds <file>', 'NATS credentials file'),
    new Option('--nats-tls-ca <file>', 'CA bundle for the NATS server certificate'),
    new Option('--nats-tls-cert <file>', 'client certificate for NATS'),
    new Option('--nats-tls-key <file>', 'client key for NATS'),
    new Option('--nats-durable <name>', 'durable consumer name shared by collector replicas').default(DEFAULT_DURABLE),
    new Option('--tls-ca <file>', 'CA that signs agent client certificates (gRPC mTLS)'),
    new Option('--tls-cert <file>', "the collector's gRPC server certificate"),
    new Option('--tls-key <file>', "the collector's gRPC server key"),
    new Option('--insecure', 'plaintext gRPC without client certificates; loopback listen addresses only'),
    new Option('--grpc-max-message-bytes <size>', 'largest agent message accepted').argParser(parseBytes)
      .default(DEFAULT_MAX_MESSAGE_BYTES),
  ];
}

export interface DeliveryMetrics {
  received(transport: string, kind: string): void;
  refused(transport: string, reason: string): void;
  invalid(transport: string): void;
  resync(transport: string): void;
}

/** Counters on the collector's registry (so its /metrics shows them); prom-client's default one otherwise. */
export function deliveryMetrics(registry: Registry = defaultRegistry): DeliveryMetrics {
  const counter = (name: string, help: string, labelNames: string[]): Counter<string> =>
    (registry.getSingleMetric(name) as Counter<string> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
  const received = counter('vigil_collector_stream_messages_total', 'Agent messages received over streaming transports', ['transport', 'kind']);
  const refused = counter('vigil_collector_refused_reports_total', 'Agent messages refused because the caller may not speak for that node', ['transport', 'reason']);
  const invalid = counter('vigil_collector_invalid_messages_total', 'Agent messages rejected as invalid', ['transport']);
  const resync = counter('vigil_collector_resync_requests_total', 'Full snapshots requested from agents after a sequence gap', ['transport']);
  return {
    received: (transport, kind) => received.inc({ transport, kind }),
    refused: (transport, reason) => refused.inc({ transport, reason }),
    invalid: (transport) => invalid.inc({ transport }),
    resync: (transport) => resync.inc({ transport }),
  };
}

/**
 * Starts the transports the options ask for; resolves to a closer (call it before closing the store).
 * Throws on bad TLS/listen options. `registry`: the collector's metrics registry.
 */
export async function startTransports(opts: TransportOptions, ingestor: Ingestor, log: Logger, registry?: Registry): Promise<() => Promise<void>> {
  const metrics = deliveryMetrics(registry);
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => { await Promise.allSettled(closers.reverse().map((c) => c())); };
  try {
    if (opts.grpcListen) {
      const tlsGiven = opts.tlsCa && opts.tlsCert && opts.tlsKey;
      if (!opts.insecure && !tlsGiven) throw new Error('--grpc-listen needs --tls-ca, --tls-cert and --tls-key, or --insecure');
      const server = await startGrpcIngestServer({
        listen: opts.grpcListen,
        insecure: opts.insecure,
        tls: tlsGiven ? { ca: readFileSync(opts.tlsCa!), cert: readFileSync(opts.tlsCert!), key: readFileSync(opts.tlsKey!) } : undefined,
        maxMessageBytes: opts.grpcMaxMessageBytes,
        ingestor, log, metrics,
      });
      closers.push(() => server.close());
    }
    if (opts.natsUrl) {
      const consumer = startNatsConsumer({
        nats: { url: opts.natsUrl, credsFile: opts.natsCreds, tlsCa: opts.natsTlsCa, tlsCert: opts.natsTlsCert,
          tlsKey: opts.natsTlsKey, name: 'vigil-collector' },
        durable: opts.natsDurable, ingestor, log, metrics,
      });
      closers.push(() => consumer.close());
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return closeAll;
}
