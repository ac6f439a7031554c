// NATS JetStream (agent/ship/nats-publisher.ts): every message published to vigil.findings.<cluster>.<node>.
import { Option } from 'commander';
import type { OptionValues, TransportComponent } from './types.js';

interface NatsValues {
  natsUrl?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

export const natsTransport: TransportComponent = {
  name: 'nats',
  requires: '--nats-url URL',

  options: () => [
    new Option('--nats-url <url>', 'publish to NATS JetStream (subject vigil.findings.<cluster>.<node>)'),
    new Option('--nats-creds <file>', 'NATS credentials file'),
    new Option('--nats-tls-ca <file>', 'CA bundle for the NATS server certificate'),
    new Option('--nats-tls-cert <file>', 'client certificate for NATS'),
    new Option('--nats-tls-key <file>', 'client key for NATS'),
  ],

  configured: (values) => Boolean((values as NatsValues).natsUrl),

  check(values) {
    if (!(values as NatsValues).natsUrl) throw new Error(`--transport nats needs ${natsTransport.requires}`);
  },

  async create(values: OptionValues, ctx) {
    const v = values as NatsValues;
    // Loaded only when used: the NATS client is a few MiB of resident memory on every node otherwise.
    const { NatsPublisher } = await import('../nats-publisher.js');
    return new NatsPublisher({
      nats: { url: v.natsUrl!, credsFile: v.natsCreds, tlsCa: v.natsTlsCa, tlsCert: v.natsTlsCert, tlsKey: v.natsTlsKey,
        name: `vigil-agent-${ctx.node}` },
      outbox: ctx.outbox, node: ctx.node, cluster: ctx.cluster, log: ctx.log, ...ctx.events,
    });
  },
};
