// The NATS ingest path: a durable pull consumer on VIGIL_FINDINGS with explicit acks, so collector
// replicas share the work and a message is acked only once it is stored. The subject names the node
// (NATS permissions decide who may publish where); a message claiming another node is refused.
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { envelopeFromWire, loadVigilProto } from '../../proto/wire.js';
import { Backoff, sleep } from '../../common/backoff.js';
import { FINDINGS_STREAM, FINDINGS_SUBJECTS, findingsSubject } from '../../proto/nats.js';
import { connectNats, ensureFindingsStream, type NatsClientOptions } from '../../proto/nats-stream.js';
import { envelopeToIngest } from './grpc-server.js';
import { IngestValidationError, type Ingestor } from './types.js';
import type { DeliveryMetrics } from './transports.js';

export const DEFAULT_DURABLE = 'vigil-collector';
const ACK_WAIT_MS = 10_000;
/**
 * A delta ahead of what is stored is put back (nak) to wait for the missing one, for longer than the ack
 * wait: when a replica dies holding unacked messages, JetStream gives them to the others only after
 * ack_wait, and applying later deltas first would make them look like duplicates. After that it is
 * applied anyway (the missing one was refused, or expired from the stream).
 */
const GAP_NAK_MS = 500;
const GAP_WAITS = Math.ceil((2 * ACK_WAIT_MS) / GAP_NAK_MS);

export interface NatsConsumerOptions {
  nats: NatsClientOptions;
  durable?: string;
  ingestor: Ingestor;
  log: Logger;
  metrics: DeliveryMetrics;
}

export interface NatsIngestConsumer {
  close(): Promise<void>;
}

export function startNatsConsumer(opts: NatsConsumerOptions): NatsIngestConsumer {
  const abort = new AbortController();
  let nc: NatsConnection | undefined;
  let stopCurrent: (() => void) | undefined;
  const durable = opts.durable ?? DEFAULT_DURABLE;

  const session = async (): Promise<void> => {
    nc = await connectNats(opts.nats);
    await ensureFindingsStream(nc);
    const jsm = await nc.jetstreamManager();
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
    const consumer = await nc.jetstream().consumers.get(FINDINGS_STREAM, durable);
    const messages = await consumer.consume({ max_messages: 256 });
    stopCurrent = () => messages.stop();
    opts.log.info({ url: opts.nats.url, durable }, 'NATS ingest consuming');
    for await (const m of messages) {
      if (abort.signal.aborted) break;
      await handle(m);
    }
  };

  const handle = async (m: JsMsg): Promise<void> => {
    const { metrics, log, ingestor } = opts;
    let message;
    try {
      const envelope = envelopeFromWire(loadVigilProto().decodeAgentMessage(Buffer.from(m.data)));
      if (!envelope) { m.ack(); return; }
      if (m.subject !== findingsSubject(envelope.cluster, envelope.node)) {
        metrics.refused('nats', 'node-mismatch');
        log.warn({ subject: m.subject, claimedNode: envelope.node, seq: envelope.seq }, 'refused a report for another node');
        m.term();
        return;
      }
      message = envelopeToIngest(envelope);
    } catch (err) {
      metrics.invalid('nats');
      log.warn({ subject: m.subject, reason: (err as Error).message }, 'dropped an undecodable NATS message');
      m.term();
      return;
    }
    metrics.received('nats', message.kind);
    // Fulls wait too: applied first, they would turn the late deltas before them into duplicates (lost history).
    if (message.seq !== undefined && m.info.deliveryCount <= GAP_WAITS) {
      const last = await ingestor.lastSeq(message.node);
      if (last !== undefined && message.seq > last + 1) { m.nak(GAP_NAK_MS); return; }
    }
    try {
      await ingestor.ingest(message);
      m.ack();
    } catch (err) {
      if (err instanceof IngestValidationError) {
        metrics.invalid('nats');
        log.warn({ node: message.node, seq: message.seq, reason: err.message }, 'rejected an invalid message');
        m.term();
        return;
      }
      log.error({ err: (err as Error).message, node: message.node, seq: message.seq }, 'ingest failed; NATS will redeliver');
      m.nak(1_000);
    }
  };

  const running = (async () => {
    const backoff = new Backoff();
    while (!abort.signal.aborted) {
      try {
        await session();
        backoff.reset();
      } catch (err) {
        if (abort.signal.aborted) break;
        opts.log.warn({ err: (err as Error).message, url: opts.nats.url }, 'NATS ingest interrupted; retrying');
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
