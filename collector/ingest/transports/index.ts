// The collector's streaming transports, in one list. A transport is one module under transports/ (an
// IngestTransport: its serve options, when it is wanted, how it starts) added to TRANSPORTS. Every one hands
// what it receives to one DeliveryIngestor (ingestor.ts), which owns identity checks, sequencing, resync
// requests, heartbeats and the delivery metrics.
import type { Command, Option } from 'commander';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DeliveryIngestor, deliveryMetrics } from '../ingestor.js';
import type { ServiceAccountVerifier } from '../service-accounts.js';
import { grpcTransport } from './grpc.js';
import { natsTransport } from './nats.js';
import type { IngestTransport, OptionValues } from './types.js';
import type { Ingestor } from '../types.js';

export { deliveryMetrics } from '../ingestor.js';

export const TRANSPORTS: readonly IngestTransport[] = [grpcTransport, natsTransport];

/**
 * `vigil-collector serve`'s option values as commander gives them, the transports' among them (camelCase:
 * `grpcListen`, `natsUrl`, …); each transport reads its own. Any object: a typed options interface, or a
 * literal with the transports' keys.
 */
export type TransportOptions = object | OptionValues;

/** Every transport's options, for `vigil-collector serve`. */
function transportOptions(): Option[] {
  return TRANSPORTS.flatMap((t) => t.options());
}

/** Adds every transport's options to the serve command. */
export function addTransportOptions(cmd: Command): Command {
  for (const option of transportOptions()) cmd.addOption(option);
  return cmd;
}

/**
 * Starts the transports the options ask for, all feeding `ingestor`; resolves to a closer (call it before
 * closing the store). Throws on options that cannot work (TLS, listen address), with nothing left running.
 * `registry`: the collector's metrics registry (prom-client's default one otherwise).
 */
export async function startTransports(
  options: TransportOptions, ingestor: Ingestor, log: Logger, registry?: Registry, deps: { serviceAccounts?: ServiceAccountVerifier } = {},
): Promise<() => Promise<void>> {
  const opts = options as OptionValues;
  const delivery = new DeliveryIngestor(ingestor, { metrics: deliveryMetrics(registry), log });
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => { await Promise.allSettled(closers.reverse().map((c) => c())); };
  try {
    for (const t of TRANSPORTS) {
      if (!t.enabled(opts)) continue;
      const receiver = t.create(opts, { delivery, log, serviceAccounts: deps.serviceAccounts });
      closers.push(() => receiver.close());
      await receiver.start();
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return closeAll;
}
