// The NATS transport: publishes every outbox message, in order, to JetStream subject
// vigil.findings.<cluster>.<node> with msgID node:seq, and counts a message delivered on its PubAck.
// A resend after a lost PubAck is dropped by JetStream's duplicate window; the collector dedupes by seq too.
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../../common/backoff.js';
import { FINDINGS_STREAM, findingsSubject, messageId } from '../../proto/nats.js';
import { connectNats, ensureFindingsStream, type NatsClientOptions } from '../../proto/nats-stream.js';
import { envelopeToWire, loadVigilProto } from '../../proto/wire.js';
import type { Outbox } from './outbox.js';
import type { Transport, TransportEvents } from './transports/types.js';

interface NatsPublisherOptions extends TransportEvents {
  nats: NatsClientOptions;
  outbox: Outbox;
  node: string;
  cluster: string;
  log: Logger;
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
    await ensureFindingsStream(nc);
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
          await js.publish(this.subject, data, {
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
        this.opts.log.warn({ err, url: this.opts.nats.url }, 'NATS publish failed');
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
