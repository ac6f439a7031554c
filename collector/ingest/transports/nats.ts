// NATS ingest: a durable pull consumer on VIGIL_FINDINGS with explicit acks, so collector replicas share the
// work and a message is acked only once it is stored. The collector owns the stream (findings-stream.ts). Who a
// message speaks for: with --sa-issuer, the ServiceAccount token in its `Authorization: Bearer …` header (the
// subject's node and the message's node must both be the token's); without, the subject's node, taken on trust
// (whoever may publish there). The DeliveryIngestor's answer becomes ack, term (never again, counted) or nak
// (again later). Each node's messages are handled in order, different nodes' side by side: one node waiting
// for a missing message delays no other.
import { Option } from 'commander';
import {
  AckPolicy, DeliverPolicy, Match, nanos, type ConsumerMessages, type JsMsg, type NatsConnection,
} from 'nats';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../../../common/backoff.js';
import { argParser, positiveDurationArg } from '../../../common/cli.js';
import { FINDINGS_STREAM, FINDINGS_SUBJECTS, parseFindingsSubject } from '../../../proto/nats.js';
import { connectNats, natsClientFromValues, natsClientOptions, natsUrlForLog, type NatsClientOptions } from '../../../proto/nats-stream.js';
import { loadVigilProto, messageFromWire, type Envelope, type HeartbeatEnvelope } from '../../../proto/wire.js';
import { bearerToken, serviceAccountCaller, untrustedCaller, type CallerIdentity } from '../identity.js';
import type { DeliveryAnswer, DeliveryIngestor, Sender } from '../ingestor.js';
import { KeysUnavailable, TokenRefused, type ServiceAccountVerifier } from '../service-accounts.js';
import { ensureFindingsStream, StreamTooWeak, type FindingsStreamLimits } from './findings-stream.js';
import type { IngestTransport, OptionValues, Receiver } from './types.js';

const DEFAULT_DURABLE = 'vigil-collector';
const ACK_WAIT_MS = 10_000;
/**
 * How long a message ahead of what is stored waits for the missing one: JetStream gives a dead replica's
 * unacked messages to the others only after ack_wait, and applying later deltas first would make them look
 * like duplicates.
 */
const GAP_MAX_WAIT_MS = 2 * ACK_WAIT_MS;
/** Redelivery delay when the token's keys cannot be had right now. */
const KEYS_RETRY_MS = 5_000;

interface NatsReceiverOptions {
  nats: NatsClientOptions;
  durable?: string;
  stream?: FindingsStreamLimits;
  delivery: DeliveryIngestor;
  serviceAccounts?: ServiceAccountVerifier;
  log: Logger;
}

class NatsReceiver implements Receiver {
  readonly name = 'nats';
  private readonly abort = new AbortController();
  private readonly durable: string;
  private nc?: NatsConnection;
  private messages?: ConsumerMessages;
  private running?: Promise<void>;
  /** Per node (subject): the tail of its chain of messages in hand. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly opts: NatsReceiverOptions) {
    this.durable = opts.durable ?? DEFAULT_DURABLE;
  }

  /**
   * Connects and makes sure of the stream and the consumer, then consumes in the background. A stream that keeps
   * less than Vigil needs stops the start; a NATS that cannot be reached yet is tried again in the background.
   */
  async start(): Promise<void> {
    const { log } = this.opts;
    if (!this.opts.serviceAccounts) {
      log.warn({ url: natsUrlForLog(this.opts.nats) }, 'NATS ingest without --sa-issuer: a message may speak for the node its '
        + 'subject names, whoever published it (NATS permissions decide who may publish where)');
    }
    let first: NatsConnection | undefined;
    try {
      first = await this.prepare();
    } catch (err) {
      if (err instanceof StreamTooWeak) throw err;
      log.warn({ err, url: natsUrlForLog(this.opts.nats) }, 'NATS not reachable yet; the collector keeps trying');
    }
    this.running = this.loop(first);
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.messages?.stop();
    await Promise.allSettled([...this.chains.values()]);
    await this.nc?.close().catch(() => undefined);
    await this.running;
  }

  /** A connection with the stream and the durable consumer in place. */
  private async prepare(): Promise<NatsConnection> {
    const conn = await connectNats(this.opts.nats);
    this.nc = conn;
    try {
      const jsm = await conn.jetstreamManager();
      const what = await ensureFindingsStream(jsm, this.opts.stream);
      if (what === 'created') this.opts.log.info({ stream: FINDINGS_STREAM, replicas: this.opts.stream?.replicas ?? 1 }, 'NATS stream created');
      const exists = await jsm.consumers.info(FINDINGS_STREAM, this.durable).then(() => true, () => false);
      if (exists) {
        await jsm.consumers.update(FINDINGS_STREAM, this.durable, { ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: 1_000 });
      } else {
        await jsm.consumers.add(FINDINGS_STREAM, {
          durable_name: this.durable,
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
      return conn;
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  private async loop(first: NatsConnection | undefined): Promise<void> {
    const backoff = new Backoff();
    let conn = first;
    while (!this.abort.signal.aborted) {
      try {
        conn ??= await this.prepare();
        await this.consume(conn);
        backoff.reset();
      } catch (err) {
        if (this.abort.signal.aborted) break;
        const level = err instanceof StreamTooWeak ? 'error' : 'warn';
        this.opts.log[level]({ err, url: natsUrlForLog(this.opts.nats) }, 'NATS ingest interrupted; retrying');
      }
      await Promise.allSettled([...this.chains.values()]);
      await conn?.close().catch(() => undefined);
      conn = undefined;
      this.nc = undefined;
      if (!this.abort.signal.aborted) await sleep(backoff.next(), this.abort.signal);
    }
  }

  private async consume(conn: NatsConnection): Promise<void> {
    const consumer = await conn.jetstream().consumers.get(FINDINGS_STREAM, this.durable);
    const messages = await consumer.consume({ max_messages: 256 });
    this.messages = messages;
    this.opts.log.info({ url: natsUrlForLog(this.opts.nats), durable: this.durable }, 'NATS ingest consuming');
    for await (const m of messages) {
      if (this.abort.signal.aborted) break;
      this.enqueue(m);
    }
  }

  /** Handles m after the messages of its subject (its node) in hand, beside every other node's. */
  private enqueue(m: JsMsg): void {
    const key = m.subject;
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.handle(m)).catch((err: unknown) => {
      this.opts.log.error({ err, subject: m.subject }, 'NATS message handler failed; it will be delivered again');
      m.nak(1_000);
    });
    this.chains.set(key, next);
    void next.then(() => { if (this.chains.get(key) === next) this.chains.delete(key); });
  }

  private relay(m: JsMsg, answer: DeliveryAnswer): void {
    switch (answer.kind) {
      case 'ack': case 'heartbeat': m.ack(); return;
      case 'reject': case 'refuse': m.term(); return;
      case 'retry': m.nak(answer.afterMs); return;
    }
  }

  /** Who published: the token in the message's header, or with no verifier the subject taken on trust. */
  private async identify(m: JsMsg, from: Sender, subjectNode: string): Promise<{ caller: CallerIdentity } | { answer: DeliveryAnswer }> {
    const { delivery, serviceAccounts } = this.opts;
    const header = m.headers?.get('Authorization', Match.IgnoreCase) || undefined;
    if (!serviceAccounts) return { caller: untrustedCaller('NATS subject', [subjectNode]) };
    const token = bearerToken(header);
    if (!token) {
      delivery.unauthenticated(from, 'no "Authorization: Bearer <ServiceAccount token>" header', 'no-identity', { subject: m.subject });
      return { answer: { kind: 'refuse', reason: 'no token' } };
    }
    try {
      return { caller: serviceAccountCaller(await serviceAccounts.verify(token)) };
    } catch (err) {
      if (err instanceof TokenRefused) {
        delivery.unauthenticated(from, err.message, err.reason, { subject: m.subject });
        return { answer: { kind: 'refuse', reason: err.message } };
      }
      if (err instanceof KeysUnavailable) {
        this.opts.log.warn({ err }, 'NATS message waits: ServiceAccount keys unavailable');
        return { answer: { kind: 'retry', afterMs: KEYS_RETRY_MS, reason: err.message } };
      }
      throw err;
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const { delivery } = this.opts;
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
      this.relay(m, delivery.undecodable(from, (err as Error).message));
      return;
    }
    const who = await this.identify(m, from, subject.node);
    if ('answer' in who) {
      this.relay(m, who.answer);
      return;
    }
    from.identity = who.caller;
    this.relay(m, await delivery.receive(message, from));
  }
}

// ---- the component --------------------------------------------------------------------------------------

interface NatsValues {
  natsUrl?: string;
  natsDurable?: string;
  natsStreamReplicas?: number;
  natsStreamMaxAge?: number;
}

const positiveInteger = argParser((text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`${JSON.stringify(text)} is not a replica count from 1 to 5`);
  return n;
});

export const natsTransport: IngestTransport = {
  name: 'nats',

  options: () => [
    new Option('--nats-url <url>', 'consume agent messages from NATS JetStream (stream VIGIL_FINDINGS, created by the collector)'),
    ...natsClientOptions(),
    new Option('--nats-durable <name>', 'durable consumer name shared by collector replicas').default(DEFAULT_DURABLE),
    new Option('--nats-stream-replicas <n>', 'copies of VIGIL_FINDINGS on a NATS cluster (default 1)').argParser(positiveInteger),
    new Option('--nats-stream-max-age <duration>', 'how long VIGIL_FINDINGS keeps a message (default 7d)').argParser(positiveDurationArg),
  ],

  enabled: (values) => Boolean((values as NatsValues).natsUrl),

  create(values: OptionValues, { delivery, log, serviceAccounts }) {
    const v = values as NatsValues;
    return new NatsReceiver({
      nats: natsClientFromValues(values, 'vigil-collector'),
      durable: v.natsDurable, stream: { replicas: v.natsStreamReplicas, maxAgeMs: v.natsStreamMaxAge },
      delivery, serviceAccounts, log,
    });
  },
};
