// The NATS transport: publishes every outbox message, in order, to JetStream subject
// vigil.findings.<cluster>.<node> with msgID node:seq and the agent's current ServiceAccount token in an
// `Authorization: Bearer …` header, and counts a message delivered on its PubAck. A resend after a lost PubAck
// is dropped by JetStream's duplicate window; the collector dedupes by seq too. The agent only publishes: the
// collector creates the stream (an agent's NATS user may publish findings and nothing else).
import { headers, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../../common/backoff.js';
import { FINDINGS_STREAM, findingsSubject, messageId } from '../../proto/nats.js';
import { connectNats, natsUrlForLog, type NatsClientOptions } from '../../proto/nats-stream.js';
import { envelopeToWire, loadVigilProto } from '../../proto/wire.js';
import type { Outbox } from './outbox.js';
import type { TokenFile } from './token.js';
import type { Transport, TransportEvents } from './transports/types.js';

interface NatsPublisherOptions extends TransportEvents {
  nats: NatsClientOptions;
  outbox: Outbox;
  node: string;
  cluster: string;
  log: Logger;
  /** Sent with every message; read again when the file changes. */
  token?: TokenFile;
  publishTimeoutMs?: number;
  backoff?: Backoff;
}

export class NatsPublisher implements Transport {
  readonly name = 'nats';
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private readonly subject: string;
  private nc?: NatsConnection;
  private running?: Promise<void>;
  private wake?: () => void;
  connected = false;

  constructor(private readonly opts: NatsPublisherOptions) {
    this.subject = findingsSubject(opts.cluster, opts.node);
    this.backoff = opts.backoff ?? new Backoff();
  }

  start(): void {
    this.opts.outbox.on('appended', this.onAppended);
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    this.opts.outbox.off('appended', this.onAppended);
    await this.running;
    await this.nc?.close().catch(() => undefined);
  }

  private readonly onAppended = (): void => { this.wake?.(); };

  private async connection(): Promise<NatsConnection> {
    if (this.nc && !this.nc.isClosed()) return this.nc;
    const nc = await connectNats(this.opts.nats);
    this.nc = nc;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'reconnect') this.opts.onReconnect?.(this.name);
        if (s.type === 'disconnect') this.connected = false;
      }
    })().catch(() => undefined);
    return nc;
  }

  private async loop(): Promise<void> {
    const { encodeAgentMessage } = loadVigilProto();
    while (!this.abort.signal.aborted) {
      try {
        const js = (await this.connection()).jetstream();
        for (;;) {
          const next = this.opts.outbox.pending(this.name)[0];
          if (this.abort.signal.aborted) return;
          if (!next) { await this.idle(); continue; }
          const data = encodeAgentMessage(envelopeToWire(next));
          const limit = this.nc?.info?.max_payload;
          if (limit && data.length > limit) {
            // It would fail the same way forever and block everything behind it: drop it, loudly.
            this.opts.log.error({ seq: next.seq, bytes: data.length, maxPayload: limit }, 'message over the NATS server max_payload; dropped for NATS');
            this.opts.onRejected?.(this.name, next.seq, 'over max_payload');
            this.opts.outbox.ack(this.name, next.seq);
            continue;
          }
          const token = this.opts.token?.current();
          const h = token ? headers() : undefined;
          if (token) h!.set('Authorization', `Bearer ${token}`);
          await js.publish(this.subject, data, {
            headers: h,
            msgID: messageId(next.node, next.seq),
            expect: { streamName: FINDINGS_STREAM },
            timeout: this.opts.publishTimeoutMs ?? 5_000,
          });
          this.connected = true;
          this.backoff.reset();
          this.opts.outbox.ack(this.name, next.seq);
        }
      } catch (err) {
        this.connected = false;
        if (this.abort.signal.aborted) return;
        const noStream = /no responders|stream not found|503/i.test((err as Error).message);
        this.opts.log.warn({ err, url: natsUrlForLog(this.opts.nats) },
          noStream ? `NATS publish failed: no stream ${FINDINGS_STREAM} yet (the collector creates it)` : 'NATS publish failed');
        await sleep(this.backoff.next(), this.abort.signal);
      }
    }
  }

  /** Until a message is appended or we stop. */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => { this.wake = undefined; resolve(); };
      if (this.abort.signal.aborted || this.opts.outbox.pending(this.name).length > 0) this.wake();
    });
  }
}
