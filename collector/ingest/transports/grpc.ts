// gRPC ingest: Ingest.Report, a bidirectional stream per agent over TLS. The caller proves who it is with a
// ServiceAccount token (metadata `authorization: Bearer …`, bound to its node) or a client certificate (one
// node name); each message goes to the DeliveryIngestor in order, and its answer goes back on the stream (ack,
// reject, resync) or ends it (refused, store unavailable). The serving certificate is reloaded when its files change.
import * as grpc from '@grpc/grpc-js';
import { Option } from 'commander';
import type { Logger } from 'pino';
import { hostOf, isLoopbackHost } from '../../../common/address.js';
import { argParser, hostPortArg } from '../../../common/cli.js';
import { formatSize, parseSize } from '../../../common/size.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES, loadVigilProto, messageFromWire, WireDecodeError,
  type AgentMessage, type CollectorMessage, type Envelope, type HeartbeatEnvelope,
} from '../../../proto/wire.js';
import { bearerToken, certificateCaller, serviceAccountCaller, untrustedCaller, type CallerIdentity } from '../identity.js';
import { DeliveryIngestor, type DeliveryAnswer, type DeliveryMetrics, type Sender } from '../ingestor.js';
import { KeysUnavailable, TokenRefused, type ServiceAccountVerifier } from '../service-accounts.js';
import type { Ingestor } from '../types.js';
import { ReloadingTlsFiles, type TlsFileNames } from './tls-files.js';
import type { IngestTransport, OptionValues, Receiver } from './types.js';

interface GrpcServerSettings {
  /** HOST:PORT; port 0 picks a free one. */
  listen: string;
  /** The serving certificate and key, and the CA of client certificates when those are accepted. */
  tls?: TlsFileNames;
  /** Plaintext on a loopback address; callers without a token are taken on trust. */
  insecure?: boolean;
  /** Verifies agents' ServiceAccount tokens; without it only client certificates identify agents. */
  serviceAccounts?: ServiceAccountVerifier;
  maxMessageBytes?: number;
  /** A stream that sends nothing (not even a heartbeat) for this long is closed. */
  idleTimeoutMs?: number;
  /** How often the TLS files are checked for a change. */
  tlsReloadMs?: number;
  log: Logger;
}

/** The settings, and the collector's DeliveryIngestor or an Ingestor and metrics to make one from. */
type GrpcReceiverOptions = GrpcServerSettings & ({ delivery: DeliveryIngestor } | { ingestor: Ingestor; metrics: DeliveryMetrics });

interface StreamState {
  chain: Promise<void>;
  closing: boolean;
  /** Ends the stream with this status (the agent reconnects and resends what is unacknowledged). */
  end(code: grpc.status, details: string): void;
}

/** How long a draining collector keeps acking what its streams already received before it ends them. */
const GRPC_DRAIN_BUDGET_MS = 3_000;

/** Why a caller was not let in: the gRPC status it gets, the metrics reason, what the log says. */
interface Unidentified { code: grpc.status; reason: string; detail: string; extra?: Record<string, unknown> }

/** setTimeout's limit (a longer delay fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class GrpcReceiver implements Receiver {
  readonly name = 'grpc';
  private readonly delivery: DeliveryIngestor;
  private readonly server: grpc.Server;
  private readonly streams = new Set<StreamState>();
  private readonly credentials: grpc.ServerCredentials;
  private readonly tlsFiles?: ReloadingTlsFiles;
  /** The bound port (after start()). */
  port = 0;

  /** Checks the options and reads the TLS files; throws on what cannot work. Nothing listens before start(). */
  constructor(private readonly opts: GrpcReceiverOptions) {
    if (opts.insecure) {
      if (!isLoopbackHost(hostOf(opts.listen))) throw new Error(`--insecure gRPC only listens on loopback, not ${opts.listen}`);
      this.credentials = grpc.ServerCredentials.createInsecure();
    } else {
      if (!opts.tls) {
        throw new Error('--grpc-listen needs --tls-cert and --tls-key (agents then prove who they are with a ServiceAccount token, '
          + '--sa-issuer, or a client certificate, --tls-ca), or --insecure on loopback');
      }
      if (!opts.tls.caFile && !opts.serviceAccounts) {
        throw new Error('--grpc-listen needs a way to tell agents apart: --sa-issuer (ServiceAccount tokens) or --tls-ca (client certificates)');
      }
      this.tlsFiles = new ReloadingTlsFiles(opts.tls, opts.log, opts.tlsReloadMs);
      // A client certificate is asked for when a CA is given, and required unless a token may stand in for it.
      this.credentials = grpc.experimental.createCertificateProviderServerCredentials(
        this.tlsFiles, this.tlsFiles.requestsClientCertificates ? this.tlsFiles : null,
        this.tlsFiles.requestsClientCertificates && !opts.serviceAccounts);
    }
    this.delivery = 'delivery' in opts ? opts.delivery : new DeliveryIngestor(opts.ingestor, { metrics: opts.metrics, log: opts.log });
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': 1024 * 1024,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    });
    this.server.addService(loadVigilProto().service, {
      Report: (call: grpc.ServerDuplexStream<AgentMessage, CollectorMessage>) => this.handleStream(call),
    });
  }

  async start(): Promise<void> {
    const { listen, log } = this.opts;
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(listen, this.credentials, (err, p) => (err ? reject(err) : resolve(p))));
    log.info({ listen, port: this.port, tls: !this.opts.insecure, clientCertificates: this.tlsFiles?.requestsClientCertificates ?? false,
      serviceAccountTokens: this.opts.serviceAccounts !== undefined }, 'gRPC ingest listening');
  }

  // Draining (SIGTERM, a rolling update): no new connections or streams (GOAWAY to every agent connected), each stream
  // finishes and acks the messages it already received (within GRPC_DRAIN_BUDGET_MS), then ends with UNAVAILABLE:
  // its agent reconnects — through the Service, to another replica — and resends whatever was not acked.
  async close(): Promise<void> {
    this.server.tryShutdown(() => undefined);
    for (const st of this.streams) st.closing = true;
    const streams = [...this.streams];
    this.opts.log.info({ streams: streams.length, budgetMs: GRPC_DRAIN_BUDGET_MS }, 'gRPC ingest draining');
    const settled = Promise.allSettled(streams.map((st) => st.chain));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((r) => { timer = setTimeout(r, GRPC_DRAIN_BUDGET_MS); })]);
    clearTimeout(timer);
    for (const st of streams) st.end(grpc.status.UNAVAILABLE, 'collector draining; reconnect');
    this.server.forceShutdown();
    this.tlsFiles?.close();
  }

  /** Who the caller is: its token, else its verified client certificate, else (plaintext on loopback) nobody in particular. */
  private async identify(call: grpc.ServerDuplexStream<AgentMessage, CollectorMessage>): Promise<CallerIdentity | Unidentified> {
    const header = call.metadata.get('authorization')[0];
    if (header !== undefined) {
      const token = bearerToken(String(header));
      if (!token) return { code: grpc.status.UNAUTHENTICATED, reason: 'no-identity', detail: 'authorization metadata is not "Bearer <token>"' };
      if (!this.opts.serviceAccounts) {
        return { code: grpc.status.UNAUTHENTICATED, reason: 'no-identity', detail: 'this collector takes no ServiceAccount tokens (no --sa-issuer)' };
      }
      try {
        return serviceAccountCaller(await this.opts.serviceAccounts.verify(token));
      } catch (err) {
        if (err instanceof TokenRefused) return { code: grpc.status.UNAUTHENTICATED, reason: err.reason, detail: err.message };
        if (err instanceof KeysUnavailable) return { code: grpc.status.UNAVAILABLE, reason: 'keys-unavailable', detail: err.message };
        throw err;
      }
    }
    const cert = call.getAuthContext()?.sslPeerCertificate;
    if (cert) {
      const caller = certificateCaller(cert);
      if ('refused' in caller) return { code: grpc.status.UNAUTHENTICATED, reason: 'certificate', detail: caller.refused, extra: { subject: cert.subject?.CN, san: cert.subjectaltname } };
      return caller;
    }
    if (this.opts.insecure) return untrustedCaller('insecure gRPC');
    return { code: grpc.status.UNAUTHENTICATED, reason: 'no-identity', detail: 'no ServiceAccount token and no client certificate' };
  }

  private handleStream(call: grpc.ServerDuplexStream<AgentMessage, CollectorMessage>): void {
    const { log } = this.opts;
    const delivery = this.delivery;
    const from: Sender = { transport: 'grpc', label: 'gRPC', peer: call.getPeer(), canResync: true };
    let closed = false;
    let expiry: NodeJS.Timeout | undefined;
    const state: StreamState = { chain: Promise.resolve(), closing: false, end: (code, details) => fail(code, details) };
    this.streams.add(state);

    const fail = (code: grpc.status, details: string): void => {
      if (closed) return;
      closed = true;
      clearTimeout(idle);
      clearTimeout(expiry);
      this.streams.delete(state);
      call.emit('error', { code, details, metadata: new grpc.Metadata() });
    };
    const idleMs = this.opts.idleTimeoutMs ?? 60_000;
    let idle = setTimeout(() => fail(grpc.status.DEADLINE_EXCEEDED, 'no message or heartbeat in time'), idleMs);
    const send = (m: CollectorMessage): void => { if (!closed) call.write(m); };

    // Messages wait for the caller to be identified: the chain starts with it.
    state.chain = this.identify(call).then((who) => {
      if ('code' in who) {
        delivery.unauthenticated(from, who.detail, who.reason, who.extra);
        fail(who.code, who.detail);
        return;
      }
      from.identity = who;
      log.info({ transport: 'grpc', peer: from.peer, identity: who.kind, ...who.detail }, 'gRPC stream opened');
      // A stream lives no longer than the token that opened it: the agent reconnects with its current one.
      if (who.expiresAt !== undefined) {
        expiry = setTimeout(() => fail(grpc.status.UNAUTHENTICATED, 'token expired; reconnect with the current one'),
          Math.min(Math.max(who.expiresAt - Date.now(), 0), MAX_TIMER_MS));
      }
    });

    const relay = (answer: DeliveryAnswer): void => {
      switch (answer.kind) {
        case 'ack':
          send({ ack: { seq: answer.seq, duplicate: answer.duplicate } });
          if (answer.resync !== undefined) send({ resync: { reason: answer.resync } });
          return;
        case 'reject':
          send({ reject: { seq: answer.seq, reason: answer.reason } });
          return;
        case 'refuse':
          fail(grpc.status.PERMISSION_DENIED, answer.reason);
          return;
        case 'retry':
          // The agent resends everything unacknowledged on its next stream.
          fail(grpc.status.UNAVAILABLE, answer.reason);
          return;
        case 'heartbeat':
          return;
      }
    };
    const handle = async (m: AgentMessage): Promise<void> => {
      if (closed || state.closing) return;
      let message: Envelope | HeartbeatEnvelope;
      try {
        message = messageFromWire(m);
      } catch (err) {
        if (!(err instanceof WireDecodeError)) throw err;
        relay(delivery.undecodable(from, err.message, { node: m.node, seq: Number(m.seq) }));
        return;
      }
      relay(await delivery.receive(message, from));
    };

    call.on('data', (m: AgentMessage) => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(grpc.status.DEADLINE_EXCEEDED, 'no message or heartbeat in time'), idleMs);
      state.chain = state.chain.then(() => handle(m)).catch((err: unknown) => {
        log.error({ err, peer: from.peer }, 'gRPC stream handler failed');
        fail(grpc.status.INTERNAL, 'internal error');
      });
    });
    const done = (): void => { closed = true; clearTimeout(idle); clearTimeout(expiry); this.streams.delete(state); };
    call.on('end', () => {
      void state.chain.then(() => { if (!closed) { done(); call.end(); } });
    });
    call.on('error', done);
    call.on('cancelled', done);
  }
}

// ---- the component --------------------------------------------------------------------------------------

interface GrpcValues {
  grpcListen?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  grpcMaxMessageBytes?: number;
}

export const grpcTransport: IngestTransport = {
  name: 'grpc',

  options: () => [
    new Option('--grpc-listen <addr>', 'accept agent streams over gRPC on HOST:PORT (TLS unless --insecure)').argParser(hostPortArg),
    new Option('--tls-ca <file>', 'CA of agent client certificates: agents may prove their node with a certificate (mTLS)'),
    new Option('--tls-cert <file>', "the collector's gRPC server certificate (read again when the file changes)"),
    new Option('--tls-key <file>', "the collector's gRPC server key (read again when the file changes)"),
    new Option('--insecure', 'plaintext gRPC; loopback listen addresses only'),
    new Option('--grpc-max-message-bytes <size>', 'largest agent message accepted (bytes, 32Mi, 32MB)').argParser(argParser(parseSize))
      .default(DEFAULT_MAX_MESSAGE_BYTES, formatSize(DEFAULT_MAX_MESSAGE_BYTES)),
  ],

  enabled: (values) => Boolean((values as GrpcValues).grpcListen),

  create(values: OptionValues, { delivery, log, serviceAccounts }) {
    const v = values as GrpcValues;
    const tls = v.tlsCert || v.tlsKey ? { certFile: v.tlsCert!, keyFile: v.tlsKey!, caFile: v.tlsCa } : undefined;
    if (!v.insecure && (!v.tlsCert || !v.tlsKey)) {
      throw new Error('--grpc-listen needs --tls-cert and --tls-key (with --tls-ca for client certificates, or --sa-issuer for '
        + 'ServiceAccount tokens), or --insecure on loopback');
    }
    return new GrpcReceiver({
      listen: v.grpcListen!, insecure: v.insecure, tls: v.insecure ? undefined : tls, serviceAccounts,
      maxMessageBytes: v.grpcMaxMessageBytes, delivery, log,
    });
  },
};
