// The one ingest function (BatchingIngestor: validate, dedupe by (node, seq), and group concurrent messages
// into one transaction), and in front of it for agent streams the DeliveryIngestor: identity, heartbeats,
// sequence gaps and resync requests, delivery metrics, the same for every transport.
import type { Logger } from 'pino';
import { Counter, register as defaultRegistry, type Registry } from 'prom-client';
import type { Envelope, HeartbeatEnvelope } from '../../proto/wire.js';
import { SEQ_WINDOW } from '../store/sequence.js';
import type { SeqPosition, Store } from '../store/types.js';
import { untrustedCaller, writerOf, type CallerIdentity } from './identity.js';
import { OrderedValidation } from './validate.js';
import { IngestValidationError, ReservedNodeError, type IngestMessage, type IngestResult, type Ingestor } from './types.js';

interface IngestorOptions {
  /** Most messages per transaction. */
  maxBatchMessages?: number;
  /** Most findings per transaction (a batch always takes at least one message). */
  maxBatchFindings?: number;
  /** Called after each applied or duplicate message (metrics, correlation cache). */
  onResult?: (message: IngestMessage, result: IngestResult, ms: number) => void;
  /** The collector clock (node last-report times); Date.now by default. */
  now?: () => number;
  /** Called when a message fails validation (the caller gets the IngestValidationError). */
  onInvalid?: (input: unknown, err: unknown) => void;
  /** Called when a transaction fails (before each message is retried alone). */
  onError?: (err: unknown, messages: number) => void;
  /** Nodes only ingestOwn() may write (the collector's own sources); refused to every other caller. */
  reservedNodes?: readonly string[];
}

interface Pending {
  message: IngestMessage;
  resolve(result: IngestResult): void;
  reject(err: unknown): void;
}

const MAX_EPOCH_LENGTH = 64;

/**
 * The validated message with the order and writer the transport gave the input: its epoch (from the wire,
 * checked here) and who wrote it (established by the transport, never from the wire).
 */
function withOrder(message: IngestMessage, input: IngestMessage): IngestMessage {
  const { epoch, writer } = input;
  if (epoch !== undefined && (typeof epoch !== 'string' || epoch.length > MAX_EPOCH_LENGTH)) {
    throw new IngestValidationError(`invalid ingest message: epoch: at most ${MAX_EPOCH_LENGTH} characters`, ['epoch: too long']);
  }
  return { ...message, ...(epoch !== undefined ? { epoch } : {}), ...(writer ? { writer } : {}) };
}

const findingCount = (m: IngestMessage): number => (m.kind === 'full' ? m.report.findings.length : m.upserts.length + m.resolved.length);

export class BatchingIngestor implements Ingestor {
  private readonly queue: Pending[] = [];
  private readonly validation = new OrderedValidation();
  private draining: Promise<void> | null = null;
  private readonly maxMessages: number;
  private readonly maxFindings: number;

  constructor(private readonly store: Store, private readonly opts: IngestorOptions = {}) {
    this.maxMessages = opts.maxBatchMessages ?? 256;
    this.maxFindings = opts.maxBatchFindings ?? 50_000;
  }

  /**
   * Validates (throws IngestValidationError) before anything is queued, so bad input never reaches the store; in
   * arrival order, a large message a slice at a time (see OrderedValidation).
   */
  async ingest(input: IngestMessage): Promise<IngestResult> {
    let queued: { stored: Promise<IngestResult> };
    try {
      queued = await this.validation.then(input, (message) => ({ stored: this.enqueue(withOrder(message, input)) }));
    } catch (err) {
      this.opts.onInvalid?.(input, err);
      throw err;
    }
    return queued.stored;
  }

  /** For callers that already validated (the HTTP route validates the posted document itself). */
  enqueue(message: IngestMessage): Promise<IngestResult> {
    if (this.opts.reservedNodes?.includes(message.node)) return Promise.reject(new ReservedNodeError(message.node));
    return this.queued(message);
  }

  /** The collector's own sources: validated like any message (same schema and limits), and allowed to write their reserved node. */
  async ingestOwn(input: IngestMessage): Promise<IngestResult> {
    const queued = await this.validation.then(input, (message) => ({ stored: this.queued(message) }));
    return queued.stored;
  }

  private queued(message: IngestMessage): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.startDrain();
    });
  }

  private startDrain(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.queue.length > 0) this.startDrain();
    });
  }

  lastSeq(node: string): Promise<number | undefined> {
    return this.store.lastSeq(node);
  }

  position(node: string): Promise<SeqPosition | undefined> {
    return this.store.position(node);
  }

  /** Resolves when everything queued so far is stored. */
  async flush(): Promise<void> {
    await this.validation.idle();
    while (this.draining) await this.draining;
  }

  private takeBatch(): Pending[] {
    let findings = 0;
    let n = 0;
    while (n < this.queue.length && n < this.maxMessages) {
      const next = findingCount(this.queue[n].message);
      if (n > 0 && findings + next > this.maxFindings) break;
      findings += next;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async drain(): Promise<void> {
    // Let messages that arrive in the same tick join this transaction.
    await new Promise((r) => setImmediate(r));
    while (this.queue.length > 0) await this.write(this.takeBatch());
  }

  private async write(batch: Pending[]): Promise<void> {
    const started = performance.now();
    try {
      const results = await this.store.applyBatch(batch.map((p) => p.message), (this.opts.now ?? Date.now)());
      const ms = performance.now() - started;
      batch.forEach((p, i) => { this.opts.onResult?.(p.message, results[i], ms); p.resolve(results[i]); });
    } catch (err) {
      if (batch.length === 1) { this.opts.onError?.(err, 1); batch[0].reject(err); return; }
      // One bad message must not fail its neighbours: retry each alone.
      this.opts.onError?.(err, batch.length);
      for (const p of batch) await this.write([p]);
    }
  }
}

// ---- agent deliveries: what every streaming transport hands over ----------------------------------------

/** Counters for every streaming transport, each with a `transport` label. */
export interface DeliveryMetrics {
  received(transport: string, kind: string): void;
  refused(transport: string, reason: string): void;
  invalid(transport: string): void;
  resync(transport: string): void;
}

/** Counters on the collector's registry (so its /metrics shows them); prom-client's default one otherwise. */
export function deliveryMetrics(registry: Registry = defaultRegistry): DeliveryMetrics {
  const counter = (name: string, help: string, labelNames: string[]): Counter<string> =>
    (registry.getSingleMetric(name) as Counter<string> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
  const received = counter('vigil_collector_stream_messages_total', 'Agent messages received over streaming transports', ['transport', 'kind']);
  const refused = counter('vigil_collector_refused_reports_total', 'Agent messages refused because the caller may not speak for that node', ['transport', 'reason']);
  const invalid = counter('vigil_collector_invalid_messages_total', 'Agent messages rejected as invalid', ['transport']);
  const resync = counter('vigil_collector_resync_requests_total', 'Full snapshots requested from agents after a sequence gap', ['transport']);
  return {
    received: (transport, kind) => received.inc({ transport, kind }),
    refused: (transport, reason) => refused.inc({ transport, reason }),
    invalid: (transport) => invalid.inc({ transport }),
    resync: (transport) => resync.inc({ transport }),
  };
}

function envelopeToIngest(e: Envelope, writer: CallerIdentity): IngestMessage {
  const base = { node: e.node, seq: e.seq, epoch: e.epoch ?? '', writer: writerOf(writer) };
  if (e.payload.kind === 'full') return { kind: 'full', ...base, report: e.payload.report };
  const d = e.payload.delta;
  return { kind: 'delta', ...base, scannedAt: d.scannedAt, upserts: [...d.added, ...d.changed], resolved: d.resolved };
}

/** Who handed a message over, as its transport established it. */
export interface Sender {
  /** The transport's name (the metrics label). */
  transport: string;
  /** How logs name it (`NATS`, `gRPC`); the name by default. */
  label?: string;
  /** For logs: the peer address, the subject. */
  peer?: string;
  /** Who the caller proved to be (token, certificate); undefined: a caller taken on trust, limited to `nodes`. */
  identity?: CallerIdentity;
  /** Nodes the caller may speak for when it has no identity (the NATS subject's node); undefined: any. */
  nodes?: readonly string[];
  /** The cluster the caller speaks in (the subject's), when the transport knows it. */
  cluster?: string;
  /** The transport can carry a resync request back to the agent (a stream with an answer channel). */
  canResync?: boolean;
  /**
   * The transport can hand the message over again later, possibly out of order (JetStream): how often it
   * has so far, and how long in all a message ahead of what is stored may wait for the missing one.
   */
  redelivery?: { count: number; maxWaitMs: number };
}

/** The ingestor's answer, which the transport relays in its own terms. */
export type DeliveryAnswer =
  /** Stored, or a duplicate: acknowledge; `resync` asks the agent for a full snapshot. */
  | { kind: 'ack'; seq: number; duplicate: boolean; resync?: string }
  /** A heartbeat: nothing to store. */
  | { kind: 'heartbeat' }
  /** Invalid: it will never be stored; the agent drops it. */
  | { kind: 'reject'; seq: number; reason: string }
  /** The caller may not speak for the node the message names. */
  | { kind: 'refuse'; reason: string }
  /** Not now (the store failed, or an earlier message is missing): hand it over again after `afterMs`. */
  | { kind: 'retry'; afterMs: number; reason: string };

interface DeliveryIngestorOptions {
  metrics: DeliveryMetrics;
  log: Logger;
  /** How long a redeliverable message ahead of the stored seq waits per round (JetStream: the nak delay). */
  gapWaitMs?: number;
  /** Redelivery delay after a store failure. */
  retryMs?: number;
}

const GAP_WAIT_MS = 500;

/**
 * The one place agent deliveries are judged, whatever carried them: identity (a caller speaks only for its
 * own node), heartbeats, sequencing (gaps wait when the transport can redeliver, else a full snapshot is
 * asked for), storing through the Ingestor, and the delivery metrics. Transports decode, authenticate,
 * call receive() and relay the answer.
 */
export class DeliveryIngestor {
  /** Nodes asked for a full snapshot that has not arrived yet: asked once, not for every delta after the gap. */
  private readonly resyncAsked = new Set<string>();
  private readonly gapWaitMs: number;

  constructor(readonly ingestor: Ingestor, private readonly opts: DeliveryIngestorOptions) {
    this.gapWaitMs = opts.gapWaitMs ?? GAP_WAIT_MS;
  }

  async receive(message: Envelope | HeartbeatEnvelope, from: Sender): Promise<DeliveryAnswer> {
    const { metrics, log } = this.opts;
    const caller = from.identity ?? untrustedCaller(from.label ?? from.transport, from.nodes);
    if (!this.speaksFor(caller, from, message)) {
      metrics.refused(from.transport, 'node-mismatch');
      log.warn({ transport: from.transport, peer: from.peer, identity: caller.kind, ...caller.detail, allowed: caller.nodes,
        claimedNode: message.node, claimedCluster: message.cluster, seq: message.seq }, 'refused a report for another node');
      return { kind: 'refuse', reason: `may only report for ${caller.nodes?.join(', ')}` };
    }
    if (!('payload' in message)) {
      metrics.received(from.transport, 'heartbeat');
      return { kind: 'heartbeat' };
    }
    const ingest = envelopeToIngest(message, caller);
    metrics.received(from.transport, ingest.kind);
    // After waiting its time a message is applied anyway (the missing one was refused, or expired).
    const mayWait = from.redelivery !== undefined && from.redelivery.count <= Math.ceil(from.redelivery.maxWaitMs / this.gapWaitMs);
    const mayResync = from.canResync === true && ingest.kind === 'delta';
    const pos = mayWait || mayResync ? await this.ingestor.position(ingest.node) : undefined;
    const stored = pos?.seq ?? undefined;
    // Fulls wait too: applied first, they would turn the late deltas before them into duplicates or, in a new
    // epoch, into an epoch left behind (lost history). An agent's seq goes on across its runs, so a new run's first
    // snapshot waits for the last run's messages as well; never for a number past the window.
    if (mayWait && stored !== undefined && message.seq > stored + 1 && message.seq <= stored + SEQ_WINDOW) {
      return { kind: 'retry', afterMs: this.gapWaitMs, reason: `waiting for seq ${stored + 1}` };
    }
    // A resync is asked for a gap in the order the message belongs to (its epoch).
    const inOrder = stored !== undefined && (pos!.epoch === null || pos!.epoch === ingest.epoch);
    const last = inOrder ? stored : undefined;
    let result: IngestResult;
    try {
      result = await this.ingestor.ingest(ingest);
    } catch (err) {
      if (err instanceof IngestValidationError) return this.reject(from, message, err.message);
      log.error({ err, transport: from.transport, node: ingest.node, seq: message.seq },
        'ingest failed; the message will be delivered again');
      return { kind: 'retry', afterMs: this.opts.retryMs ?? 1_000, reason: 'store unavailable' };
    }
    if (result.refused) return this.refused(from, caller, message, result.refused);
    const answer: DeliveryAnswer = { kind: 'ack', seq: message.seq, duplicate: result.duplicate };
    if (result.applied) {
      const about = { transport: from.transport, node: ingest.node, epoch: ingest.epoch, seq: message.seq, identity: caller.kind, subject: caller.subject };
      if (ingest.kind === 'full') log.info({ ...about, ...caller.detail, findings: ingest.report.findings.length }, 'full report stored');
      else log.debug(about, 'delta stored');
    }
    if (ingest.kind === 'full' && result.applied) this.resyncAsked.delete(ingest.node);
    // A delta that does not follow what we hold (a lost message, a collector that lost its data, an epoch the
    // node has left) is stored or ignored, but the agent is asked for a full snapshot to repair the state.
    const gap = mayResync && (result.stale === true || (last === undefined && !inOrder) || (last !== undefined && message.seq > last + 1));
    if (gap && (!result.duplicate || result.stale) && !this.resyncAsked.has(ingest.node)) {
      this.resyncAsked.add(ingest.node);
      metrics.resync(from.transport);
      log.info({ transport: from.transport, node: ingest.node, epoch: ingest.epoch, seq: message.seq, lastSeq: last, stale: result.stale },
        'sequence gap: asking the agent for a full snapshot');
      answer.resync = result.stale ? `collector follows another epoch of ${ingest.node}` : `collector holds up to seq ${last ?? 'none'}, got ${message.seq}`;
    }
    return answer;
  }

  /**
   * A message its transport could not turn into an envelope (not protobuf, bad JSON inside): counted,
   * logged, never stored. `about`: its node and seq, when the wire message itself could be read.
   */
  undecodable(from: Sender, reason: string, about?: { node: string; seq: number }): DeliveryAnswer {
    if (about) return this.reject(from, about, reason);
    this.opts.metrics.invalid(from.transport);
    this.opts.log.warn({ transport: from.transport, peer: from.peer, reason }, `dropped an undecodable ${from.label ?? from.transport} message`);
    return { kind: 'reject', seq: 0, reason };
  }

  /** A caller whose credentials prove nothing (no token or certificate, a bad token): `reason` is the metrics label. */
  unauthenticated(from: Sender, detail: string, reason = 'no-identity', extra: Record<string, unknown> = {}): void {
    this.opts.metrics.refused(from.transport, reason);
    this.opts.log.warn({ transport: from.transport, peer: from.peer, reason, ...extra }, `refused ${from.label ?? from.transport} caller: ${detail}`);
  }

  private speaksFor(caller: CallerIdentity, from: Sender, m: { node: string; cluster: string }): boolean {
    const nodeOk = (nodes: readonly string[] | undefined): boolean => nodes === undefined || nodes.includes(m.node);
    return nodeOk(caller.nodes) && nodeOk(from.nodes) && (from.cluster === undefined || from.cluster === m.cluster);
  }

  /** The store would not take it: a seq too far ahead (dropped by the agent), or a node bound to another identity. */
  private refused(from: Sender, caller: CallerIdentity, m: Envelope, refusal: NonNullable<IngestResult['refused']>): DeliveryAnswer {
    this.opts.metrics.refused(from.transport, refusal.reason);
    this.opts.log.warn({ transport: from.transport, peer: from.peer, identity: caller.kind, ...caller.detail, node: m.node,
      epoch: m.epoch, seq: m.seq, reason: refusal.reason }, `refused a message: ${refusal.message}`);
    return refusal.reason === 'seq-window' ? { kind: 'reject', seq: m.seq, reason: refusal.message } : { kind: 'refuse', reason: refusal.message };
  }

  private reject(from: Sender, m: { node: string; seq: number }, reason: string): DeliveryAnswer {
    this.opts.metrics.invalid(from.transport);
    this.opts.log.warn({ transport: from.transport, peer: from.peer, node: m.node, seq: m.seq, reason }, 'rejected an invalid message');
    return { kind: 'reject', seq: m.seq, reason };
  }
}
