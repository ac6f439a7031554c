// gRPC ingest: Ingest.Report, a bidirectional stream per agent over mTLS. The client certificate names the
// nodes the caller may speak for; each message goes to the DeliveryIngestor in order, and its answer goes
// back on the stream (ack, reject, resync) or ends it (refused, store unavailable).
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
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
import { DeliveryIngestor, type DeliveryAnswer, type DeliveryMetrics, type Sender } from '../ingestor.js';
import type { Ingestor } from '../types.js';
import type { IngestTransport, OptionValues } from './types.js';

interface GrpcServerSettings {
  /** HOST:PORT; port 0 picks a free one. */
  listen: string;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  /** Plaintext on a loopback address; identities are then taken on trust. */
  insecure?: boolean;
  maxMessageBytes?: number;
  /** A stream that sends nothing (not even a heartbeat) for this long is closed. */
  idleTimeoutMs?: number;
  log: Logger;
}

/** The settings, and the collector's DeliveryIngestor or an Ingestor and metrics to make one from. */
type GrpcIngestOptions = GrpcServerSettings & ({ delivery: DeliveryIngestor } | { ingestor: Ingestor; metrics: DeliveryMetrics });

export interface GrpcIngestServer {
  port: number;
  close(): Promise<void>;
}

/** Node names a client certificate speaks for: its CN and its DNS subject alternative names. */
function certificateNodeNames(cert: PeerCertificate | undefined): string[] {
  if (!cert || !cert.subject) return [];
  const names = new Set<string>();
  const cn = cert.subject.CN as string | string[] | undefined;
  for (const n of Array.isArray(cn) ? cn : cn ? [cn] : []) names.add(n);
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*DNS:(.+)$/.exec(part);
    if (m) names.add(m[1].trim());
  }
  return [...names];
}

export async function startGrpcIngestServer(opts: GrpcIngestOptions): Promise<GrpcIngestServer> {
  let creds: grpc.ServerCredentials;
  if (opts.insecure) {
    if (!isLoopbackHost(hostOf(opts.listen))) throw new Error(`--insecure gRPC only listens on loopback, not ${opts.listen}`);
    creds = grpc.ServerCredentials.createInsecure();
  } else {
    if (!opts.tls) throw new Error('--grpc-listen needs --tls-ca, --tls-cert and --tls-key (or --insecure on loopback)');
    creds = grpc.ServerCredentials.createSsl(opts.tls.ca, [{ private_key: opts.tls.key, cert_chain: opts.tls.cert }], true);
  }
  const delivery = 'delivery' in opts ? opts.delivery : new DeliveryIngestor(opts.ingestor, { metrics: opts.metrics, log: opts.log });
  const max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': 1024 * 1024,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  const streams = new Set<StreamState>();
  server.addService(loadVigilProto().service, {
    Report: (call: grpc.ServerDuplexStream<AgentMessage, CollectorMessage>) => handleStream(call, opts, delivery, streams),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(opts.listen, creds, (err, p) => (err ? reject(err) : resolve(p))));
  opts.log.info({ listen: opts.listen, port, mtls: !opts.insecure }, 'gRPC ingest listening');
  return {
    port,
    // Agent streams never end on their own: let each finish the message in hand, then cut them (the
    // agents resend whatever was not acked).
    async close() {
      for (const st of streams) st.closing = true;
      const settled = Promise.allSettled([...streams].map((st) => st.chain));
      await Promise.race([settled, new Promise((r) => setTimeout(r, 3_000))]);
      server.forceShutdown();
    },
  };
}

interface StreamState { chain: Promise<void>; closing: boolean }

function handleStream(
  call: grpc.ServerDuplexStream<AgentMessage, CollectorMessage>, opts: GrpcServerSettings, delivery: DeliveryIngestor,
  streams: Set<StreamState>,
): void {
  const { log } = opts;
  const names = opts.insecure ? undefined : certificateNodeNames(call.getAuthContext()?.sslPeerCertificate);
  const from: Sender = { transport: 'grpc', label: 'gRPC', peer: call.getPeer(), nodes: names, canResync: true };
  const state: StreamState = { chain: Promise.resolve(), closing: false };
  streams.add(state);
  let closed = false;

  const fail = (code: grpc.status, details: string): void => {
    if (closed) return;
    closed = true;
    clearTimeout(idle);
    streams.delete(state);
    call.emit('error', { code, details, metadata: new grpc.Metadata() });
  };
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  let idle = setTimeout(() => fail(grpc.status.DEADLINE_EXCEEDED, 'no message or heartbeat in time'), idleMs);
  const send = (m: CollectorMessage): void => { if (!closed) call.write(m); };

  if (names && names.length === 0) {
    delivery.unauthenticated(from, 'client certificate names no node');
    fail(grpc.status.UNAUTHENTICATED, 'client certificate names no node');
    return;
  }

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
        fail(grpc.status.PERMISSION_DENIED, `this client certificate may only report for ${names?.join(', ')}`);
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
  const done = (): void => { closed = true; clearTimeout(idle); streams.delete(state); };
  call.on('end', () => {
    void state.chain.then(() => { if (!closed) { done(); call.end(); } });
  });
  call.on('error', done);
  call.on('cancelled', done);
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
    new Option('--grpc-listen <addr>', 'accept agent streams over gRPC on HOST:PORT (mTLS unless --insecure)').argParser(hostPortArg),
    new Option('--tls-ca <file>', 'CA that signs agent client certificates (gRPC mTLS)'),
    new Option('--tls-cert <file>', "the collector's gRPC server certificate"),
    new Option('--tls-key <file>', "the collector's gRPC server key"),
    new Option('--insecure', 'plaintext gRPC without client certificates; loopback listen addresses only'),
    new Option('--grpc-max-message-bytes <size>', 'largest agent message accepted (bytes, 32Mi, 32MB)').argParser(argParser(parseSize))
      .default(DEFAULT_MAX_MESSAGE_BYTES, formatSize(DEFAULT_MAX_MESSAGE_BYTES)),
  ],

  enabled: (values) => Boolean((values as GrpcValues).grpcListen),

  async create(values: OptionValues, { delivery, log }) {
    const v = values as GrpcValues;
    const tlsGiven = v.tlsCa && v.tlsCert && v.tlsKey;
    if (!v.insecure && !tlsGiven) throw new Error('--grpc-listen needs --tls-ca, --tls-cert and --tls-key, or --insecure');
    return startGrpcIngestServer({
      listen: v.grpcListen!,
      insecure: v.insecure,
      tls: tlsGiven ? { ca: readFileSync(v.tlsCa!), cert: readFileSync(v.tlsCert!), key: readFileSync(v.tlsKey!) } : undefined,
      maxMessageBytes: v.grpcMaxMessageBytes,
      delivery, log,
    });
  },
};
