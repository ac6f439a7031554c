// The gRPC ingest endpoint: Ingest.Report, a bidirectional stream per agent. Each message is checked
// against the caller's identity (the node named by its client certificate), turned into an IngestMessage,
// stored through the one Ingestor, and acked by seq. Messages of one stream are handled in order.
import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import {
  DEFAULT_MAX_MESSAGE_BYTES, envelopeFromWire, loadVigilProto, WireDecodeError,
  type AgentMessage, type CollectorMessage, type Envelope,
} from '../../proto/wire.js';
import { IngestValidationError, type IngestMessage, type Ingestor } from './types.js';
import type { DeliveryMetrics } from './transports.js';

export interface GrpcIngestOptions {
  /** HOST:PORT; port 0 picks a free one. */
  listen: string;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  /** Plaintext on a loopback address; identities are then taken on trust. */
  insecure?: boolean;
  maxMessageBytes?: number;
  /** A stream that sends nothing (not even a heartbeat) for this long is closed. */
  idleTimeoutMs?: number;
  ingestor: Ingestor;
  log: Logger;
  metrics: DeliveryMetrics;
}

export interface GrpcIngestServer {
  port: number;
  close(): Promise<void>;
}

export function envelopeToIngest(e: Envelope): IngestMessage {
  if (e.payload.kind === 'full') return { kind: 'full', node: e.node, seq: e.seq, report: e.payload.report };
  const d = e.payload.delta;
  return { kind: 'delta', node: e.node, seq: e.seq, scannedAt: d.scannedAt, upserts: [...d.added, ...d.changed], resolved: d.resolved };
}

/** Node names a client certificate speaks for: its CN and its DNS subject alternative names. */
export function certificateNodeNames(cert: PeerCertificate | undefined): string[] {
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

function isLoopbackListen(listen: string): boolean {
  const host = listen.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startGrpcIngestServer(opts: GrpcIngestOptions): Promise<GrpcIngestServer> {
  let creds: grpc.ServerCredentials;
  if (opts.insecure) {
    if (!isLoopbackListen(opts.listen)) throw new Error(`--insecure gRPC only listens on loopback, not ${opts.listen}`);
    creds = grpc.ServerCredentials.createInsecure();
  } else {
    if (!opts.tls) throw new Error('--grpc-listen needs --tls-ca, --tls-cert and --tls-key (or --insecure on loopback)');
    creds = grpc.ServerCredentials.createSsl(opts.tls.ca, [{ private_key: opts.tls.key, cert_chain: opts.tls.cert }], true);
  }
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
    Report: (call: grpc.ServerDuplexStream<AgentMessage, CollectorMessage>) => handleStream(call, opts, streams),
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

function handleStream(call: grpc.ServerDuplexStream<AgentMessage, CollectorMessage>, opts: GrpcIngestOptions, streams: Set<StreamState>): void {
  const { log, metrics, ingestor } = opts;
  const peer = call.getPeer();
  const names = opts.insecure ? undefined : certificateNodeNames(call.getAuthContext()?.sslPeerCertificate);
  const state: StreamState = { chain: Promise.resolve(), closing: false };
  streams.add(state);
  let closed = false;
  let resyncAsked = false;

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
    metrics.refused('grpc', 'no-identity');
    log.warn({ peer }, 'refused gRPC stream: client certificate names no node');
    fail(grpc.status.UNAUTHENTICATED, 'client certificate names no node');
    return;
  }

  const handle = async (m: AgentMessage): Promise<void> => {
    if (closed || state.closing) return;
    if (names && !names.includes(m.node)) {
      metrics.refused('grpc', 'node-mismatch');
      log.warn({ peer, certificateNames: names, claimedNode: m.node, seq: m.seq }, 'refused a report for another node');
      fail(grpc.status.PERMISSION_DENIED, `this client certificate may only report for ${names.join(', ')}`);
      return;
    }
    let envelope: Envelope | undefined;
    let message: IngestMessage;
    try {
      envelope = envelopeFromWire(m);
      if (!envelope) { metrics.received('grpc', 'heartbeat'); return; }
      message = envelopeToIngest(envelope);
    } catch (err) {
      if (!(err instanceof WireDecodeError)) throw err;
      return reject(m, err.message);
    }
    metrics.received('grpc', message.kind);
    // A delta that does not follow what we hold (a lost message, a collector that lost its data) is
    // stored anyway, but the agent is asked for a full snapshot to repair the state.
    const last = message.kind === 'delta' ? await ingestor.lastSeq(message.node) : undefined;
    const gap = message.kind === 'delta' && (last === undefined || message.seq > last + 1);
    try {
      const result = await ingestor.ingest(message);
      send({ ack: { seq: envelope.seq, duplicate: result.duplicate } });
      if (message.kind === 'full') resyncAsked = false;
      if (gap && !result.duplicate && !resyncAsked) {
        resyncAsked = true;
        metrics.resync('grpc');
        log.info({ node: message.node, seq: message.seq, lastSeq: last }, 'sequence gap: asking the agent for a full snapshot');
        send({ resync: { reason: `collector holds up to seq ${last ?? 'none'}, got ${message.seq}` } });
      }
    } catch (err) {
      if (err instanceof IngestValidationError) return reject(m, err.message);
      log.error({ err: (err as Error).message, node: message.node, seq: message.seq }, 'ingest failed; the agent will resend');
      fail(grpc.status.UNAVAILABLE, 'store unavailable');
    }
  };
  const reject = (m: AgentMessage, reason: string): void => {
    metrics.invalid('grpc');
    log.warn({ peer, node: m.node, seq: m.seq, reason }, 'rejected an invalid message');
    send({ reject: { seq: Number(m.seq), reason } });
  };

  call.on('data', (m: AgentMessage) => {
    clearTimeout(idle);
    idle = setTimeout(() => fail(grpc.status.DEADLINE_EXCEEDED, 'no message or heartbeat in time'), idleMs);
    state.chain = state.chain.then(() => handle(m)).catch((err: unknown) => {
      log.error({ err: (err as Error).message, peer }, 'gRPC stream handler failed');
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
