// The gRPC transport: one long-lived bidirectional stream to the collector. Sends what the outbox holds
// beyond the last acknowledged seq (a bounded window in flight), drops what the collector acks, and on any
// break reconnects with backoff and resends everything unacknowledged. Deadlines: connecting, and each
// message's ack; a stream that stops acking is cancelled and reopened. Each stream opens with the agent's
// current ServiceAccount token (metadata `authorization: Bearer …`); when the token file changes, the stream
// is reopened with the new one before the old one expires.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { isDnsName, isLoopbackHost, parseHostPort } from '../../common/address.js';
import { Backoff, sleep } from '../../common/backoff.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES, envelopeToWire, loadVigilProto, type AgentMessage, type CollectorMessage, type IngestClient,
} from '../../proto/wire.js';
import type { Outbox } from './outbox.js';
import type { TokenFile } from './token.js';
import type { TlsFiles, Transport, TransportEvents } from './transports/types.js';

interface GrpcSenderOptions extends TransportEvents {
  target: string;
  tls?: TlsFiles;
  /** Plaintext, loopback targets only. */
  insecure?: boolean;
  /** Expected name in the collector's certificate when it differs from the target host. */
  serverName?: string;
  outbox: Outbox;
  node: string;
  cluster: string;
  log: Logger;
  /** The ServiceAccount token sent with every stream; without it the client certificate (if any) is the identity. */
  token?: TokenFile;
  maxMessageBytes?: number;
  connectTimeoutMs?: number;
  ackTimeoutMs?: number;
  heartbeatMs?: number;
  window?: number;
  backoff?: Backoff;
}

/**
 * grpc-js names the collector's host as the TLS server name even when it is an IP address, which TLS does not
 * allow (Node warns, DEP0123). Certificate checks do not need it: an IP is checked against the IP SANs.
 */
function withoutIpServerName(creds: grpc.ChannelCredentials): grpc.ChannelCredentials {
  type Connector = { connectionOptions?: { servername?: string } };
  const c = creds as unknown as { _createSecureConnector?: (...args: unknown[]) => Connector };
  const create = c._createSecureConnector?.bind(creds);
  if (!create) return creds;
  c._createSecureConnector = (...args) => {
    const connector = create(...args);
    const name = connector.connectionOptions?.servername;
    if (name !== undefined && !isDnsName(name)) delete connector.connectionOptions!.servername;
    return connector;
  };
  return creds;
}

/** The collector's `host:port` (`[v6]:port`); an empty host is refused: an agent dials a collector. */
export function collectorHost(target: string): string {
  const { host } = parseHostPort(target);
  if (host === '') throw new Error(`"${target}" names no host (expected HOST:PORT, e.g. collector.vigil:7443)`);
  return host;
}

export class GrpcSender implements Transport {
  readonly name = 'grpc';
  private readonly client: IngestClient;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private running?: Promise<void>;
  private call?: grpc.ClientDuplexStream<AgentMessage, CollectorMessage>;
  private sessions = 0;
  connected = false;

  constructor(private readonly opts: GrpcSenderOptions) {
    const host = collectorHost(opts.target);
    let creds: grpc.ChannelCredentials;
    if (opts.insecure) {
      if (!isLoopbackHost(host)) throw new Error(`--insecure is for loopback collectors only, not ${host}`);
      creds = grpc.credentials.createInsecure();
    } else {
      if (!opts.tls) throw new Error('gRPC needs --tls-ca, and --token-file or --tls-cert and --tls-key (or --insecure on loopback)');
      creds = grpc.credentials.createSsl(opts.tls.ca, opts.tls.key ?? null, opts.tls.cert ?? null);
      if (!opts.serverName && !isDnsName(host)) creds = withoutIpServerName(creds);
    }
    const max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_send_message_length': max,
      'grpc.max_receive_message_length': 1024 * 1024,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      // The channel's own reconnect backoff (default up to 120 s) would sit on top of ours.
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 5_000,
    };
    if (opts.serverName) channelOptions['grpc.ssl_target_name_override'] = opts.serverName;
    const { Client } = loadVigilProto();
    this.client = new Client(opts.target, creds, channelOptions);
    this.backoff = opts.backoff ?? new Backoff();
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.call?.cancel();
    await this.running;
    this.client.close();
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      let progressed = false;
      try {
        progressed = await this.session();
      } catch (err) {
        this.opts.log.warn({ err, target: this.opts.target }, 'gRPC stream failed');
      }
      if (this.abort.signal.aborted) break;
      if (progressed) this.backoff.reset();
      await sleep(this.backoff.next(), this.abort.signal);
    }
  }

  private waitForReady(): Promise<void> {
    const deadline = Date.now() + (this.opts.connectTimeoutMs ?? 5_000);
    return new Promise((resolve, reject) => this.client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())));
  }

  /** One stream, until it breaks. Resolves true when at least one ack came back. */
  private async session(): Promise<boolean> {
    await this.waitForReady();
    if (this.abort.signal.aborted) return false;
    if (this.sessions++ > 0) this.opts.onReconnect?.(this.name);
    const { outbox, log } = this.opts;
    const { encodeAgentMessage } = loadVigilProto();
    const maxBytes = this.opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const window = this.opts.window ?? 256;
    const ackTimeout = this.opts.ackTimeoutMs ?? 15_000;
    const metadata = new grpc.Metadata();
    const token = this.opts.token?.current();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    const call = this.client.Report(metadata);
    this.call = call;
    let rotating = false;
    let sentUpTo = outbox.cursor(this.name);
    const sentAt = new Map<number, number>();
    let acked = false;

    const pump = (): void => {
      const inFlight = sentAt.size;
      if (inFlight >= window) return;
      for (const e of outbox.pending(this.name, sentUpTo).slice(0, window - inFlight)) {
        const wire = envelopeToWire(e);
        const bytes = encodeAgentMessage(wire).length;
        if (bytes > maxBytes) {
          // It would break the stream on every attempt and block everything behind it. Drop it once
          // everything before it is acknowledged (acks are cumulative).
          if (sentAt.size > 0) return;
          log.error({ seq: e.seq, bytes, maxBytes }, 'message over the gRPC size limit; dropped for gRPC');
          this.opts.onRejected?.(this.name, e.seq, 'over the message size limit');
          outbox.ack(this.name, e.seq);
          sentUpTo = e.seq;
          continue;
        }
        call.write(wire);
        sentAt.set(e.seq, Date.now());
        sentUpTo = e.seq;
      }
    };
    const settle = (seq: number): void => {
      for (const s of sentAt.keys()) if (s <= seq) sentAt.delete(s);
    };
    const onData = (m: CollectorMessage): void => {
      if (m.ack) {
        acked = true;
        this.connected = true;
        settle(m.ack.seq);
        outbox.ack(this.name, m.ack.seq);
      } else if (m.reject) {
        log.error({ seq: m.reject.seq, reason: m.reject.reason }, 'collector rejected a message; dropping it');
        this.opts.onRejected?.(this.name, m.reject.seq, m.reject.reason);
        settle(m.reject.seq);
        outbox.ack(this.name, m.reject.seq);
      } else if (m.resync) {
        this.opts.onResync?.(m.resync?.reason ?? '');
      }
      pump();
    };
    const heartbeat = (): void => {
      if (token && this.opts.token!.current() !== token && !rotating) {
        // The kubelet rotated the token: open a new stream with it (what is unacknowledged is sent again).
        rotating = true;
        log.info('token rotated; reopening the gRPC stream with the new one');
        call.cancel();
        return;
      }
      const hb = this.opts.heartbeat?.();
      if (hb) call.write({ node: this.opts.node, cluster: this.opts.cluster, epoch: outbox.epoch, seq: outbox.lastSeq, heartbeat: hb });
    };
    const watchdog = setInterval(() => {
      const oldest = Math.min(...sentAt.values());
      if (sentAt.size > 0 && Date.now() - oldest > ackTimeout) {
        log.warn({ ackTimeoutMs: ackTimeout, unacked: sentAt.size }, 'collector stopped acking; reopening the stream');
        call.cancel();
      }
    }, Math.min(1_000, ackTimeout));
    const beat = setInterval(heartbeat, this.opts.heartbeatMs ?? 10_000);
    outbox.on('appended', pump);
    try {
      await new Promise<void>((resolve, reject) => {
        call.on('data', onData);
        call.on('error', (err: grpc.ServiceError) => {
          if (err.code === grpc.status.CANCELLED && (this.abort.signal.aborted || rotating)) resolve();
          else if (err.code === grpc.status.UNAVAILABLE && acked) {
            // A replica draining (GOAWAY, then UNAVAILABLE) or gone after serving us: reconnect at once (the Service
            // picks another replica) and resend what it did not ack.
            log.info({ details: err.details }, 'collector ended the stream; reconnecting');
            resolve();
          } else reject(new Error(`${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
        });
        call.on('end', () => resolve());
        heartbeat();
        pump();
      });
    } finally {
      clearInterval(watchdog);
      clearInterval(beat);
      outbox.off('appended', pump);
      this.connected = false;
      call.cancel();
      this.call = undefined;
    }
    return acked;
  }
}
