// NATS JetStream (agent/ship/nats-publisher.ts): every message published to vigil.findings.<cluster>.<node>
// with the agent's ServiceAccount token in its header. Agents only publish: the collector owns the stream.
import { Option } from 'commander';
import { AGENT_INBOX_PREFIX } from '../../../proto/nats.js';
import { natsClientFromValues, natsClientOptions } from '../../../proto/nats-stream.js';
import type { OptionValues, TransportComponent } from './types.js';

export const natsTransport: TransportComponent = {
  name: 'nats',
  requires: '--nats-url URL',

  options: () => [
    new Option('--nats-url <url>', 'publish to NATS JetStream (subject vigil.findings.<cluster>.<node>)'),
    ...natsClientOptions(),
  ],

  configured: (values) => Boolean((values as { natsUrl?: string }).natsUrl),

  check(values) {
    if (!(values as { natsUrl?: string }).natsUrl) throw new Error(`--transport nats needs ${natsTransport.requires}`);
    natsClientFromValues(values, 'check');
  },

  async create(values: OptionValues, ctx) {
    // Loaded only when used: the NATS client is a few MiB of resident memory on every node otherwise.
    const { NatsPublisher } = await import('../nats-publisher.js');
    return new NatsPublisher({
      nats: natsClientFromValues(values, `vigil-agent-${ctx.node}`, AGENT_INBOX_PREFIX),
      outbox: ctx.outbox, node: ctx.node, cluster: ctx.cluster, log: ctx.log, token: ctx.token, ...ctx.events,
    });
  },
};
