// NATS ingest: a durable pull consumer on VIGIL_FINDINGS with explicit acks, so collector replicas share the
// work and a message is acked only once it is stored. The subject names the node (NATS permissions decide
// who may publish where), so a message may speak only for that node. The DeliveryIngestor's answer becomes
// ack, term (never again) or nak (again later).
import { Option } from 'commander';
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../../../common/backoff.js';
import { FINDINGS_STREAM, FINDINGS_SUBJECTS, parseFindingsSubject } from '../../../proto/nats.js';
import { connectNats, ensureFindingsStream, type NatsClientOptions } from '../../../proto/nats-stream.js';
import { loadVigilProto, messageFromWire, type Envelope, type HeartbeatEnvelope } from '../../../proto/wire.js';
import type { DeliveryAnswer, DeliveryIngestor, Sender } from '../ingestor.js';
import type { IngestTransport, OptionValues } from './types.js';

const DEFAULT_DURABLE = 'vigil-collector';
const ACK_WAIT_MS = 10_000;
/**
 * How long a message ahead of what is stored waits for the missing one: JetStream gives a dead replica's
 * unacked messages to the others only after ack_wait, and applying later deltas first would make them look
 * like duplicates.
 */
const GAP_MAX_WAIT_MS = 2 * ACK_WAIT_MS;

interface NatsConsumerOptions {
  nats: NatsClientOptions;
  durable?: string;
  delivery: DeliveryIngestor;
  log: Logger;
}

interface NatsIngestConsumer {
  close(): Promise<void>;
}

function startNatsConsumer(opts: NatsConsumerOptions): NatsIngestConsumer {
  const abort = new AbortController();
  let nc: NatsConnection | undefined;
  let stopCurrent: (() => void) | undefined;
  const durable = opts.durable ?? DEFAULT_DURABLE;

  const session = async (): Promise<void> => {
    const conn = await connectNats(opts.nats);
    nc = conn;
    await ensureFindingsStream(conn);
    const jsm = await conn.jetstreamManager();
    const exists = await jsm.consumers.info(FINDINGS_STREAM, durable).then(() => true, () => false);
    if (exists) {
      await jsm.consumers.update(FINDINGS_STREAM, durable, { ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: 1_000 });
    } else {
      await jsm.consumers.add(FINDINGS_STREAM, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: FINDINGS_SUBJECTS,
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: 1_000,
      }).catch(async (err: Error) => {
        // Another replica created it first.
        if (!/already (in use|exists)/i.test(err.message)) throw err;
      });
    }
    const consumer = await conn.jetstream().consumers.get(FINDINGS_STREAM, durable);
    const messages = await consumer.consume({ max_messages: 256 });
    stopCurrent = () => messages.stop();
    opts.log.info({ url: opts.nats.url, durable }, 'NATS ingest consuming');
    for await (const m of messages) {
      if (abort.signal.aborted) break;
      await handle(m);
    }
  };

  const relay = (m: JsMsg, answer: DeliveryAnswer): void => {
    switch (answer.kind) {
      case 'ack': case 'heartbeat': m.ack(); return;
      case 'reject': case 'refuse': m.term(); return;
      case 'retry': m.nak(answer.afterMs); return;
    }
  };

  const handle = async (m: JsMsg): Promise<void> => {
    const { delivery } = opts;
    const subject = parseFindingsSubject(m.subject);
    const from: Sender = {
      transport: 'nats', label: 'NATS', peer: m.subject, redelivery: { count: m.info.deliveryCount, maxWaitMs: GAP_MAX_WAIT_MS },
      nodes: subject ? [subject.node] : [], cluster: subject?.cluster,
    };
    let message: Envelope | HeartbeatEnvelope;
    try {
      if (!subject) throw new Error('the subject names no valid cluster and node');
      message = messageFromWire(loadVigilProto().decodeAgentMessage(m.data));
    } catch (err) {
      relay(m, delivery.undecodable(from, (err as Error).message));
      return;
    }
    relay(m, await delivery.receive(message, from));
  };

  const running = (async () => {
    const backoff = new Backoff();
    while (!abort.signal.aborted) {
      try {
        await session();
        backoff.reset();
      } catch (err) {
        if (abort.signal.aborted) break;
        opts.log.warn({ err, url: opts.nats.url }, 'NATS ingest interrupted; retrying');
      }
      await nc?.close().catch(() => undefined);
      nc = undefined;
      if (!abort.signal.aborted) await sleep(backoff.next(), abort.signal);
    }
  })();

  return {
    async close() {
      abort.abort();
      stopCurrent?.();
      await nc?.close().catch(() => undefined);
      await running;
    },
  };
}

// ---- the component --------------------------------------------------------------------------------------

interface NatsValues {
  natsUrl?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  natsDurable?: string;
}

export const natsTransport: IngestTransport = {
  name: 'nats',

  options: () => [
    new Option('--nats-url <url>', 'consume agent messages from NATS JetStream (stream VIGIL_FINDINGS)'),
    new Option('--nats-creds <file>', 'NATS credentials file'),
    new Option('--nats-tls-ca <file>', 'CA bundle for the NATS server certificate'),
    new Option('--nats-tls-cert <file>', 'client certificate for NATS'),
    new Option('--nats-tls-key <file>', 'client key for NATS'),
    new Option('--nats-durable <name>', 'durable consumer name shared by collector replicas').default(DEFAULT_DURABLE),
  ],

  enabled: (values) => Boolean((values as NatsValues).natsUrl),

  async create(values: OptionValues, { delivery, log }) {
    const v = values as NatsValues;
    return startNatsConsumer({
      nats: { url: v.natsUrl!, credsFile: v.natsCreds, tlsCa: v.natsTlsCa, tlsCert: v.natsTlsCert, tlsKey: v.natsTlsKey,
        name: 'vigil-collector' },
      durable: v.natsDurable, delivery, log,
    });
  },
};
