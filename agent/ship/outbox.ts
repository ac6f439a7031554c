// The durable outbox: every report and delta, numbered, on the node's disk until every transport has it.
//
// One file per message (`<seq>.json`, fsynced before the message counts as queued) and a small state file
// (next seq, each transport's acknowledged seq, folded-delta count) written atomically. The seq never goes
// back: it survives restarts through the state file and the entry files. Bounded: a delta that does not
// fit folds every pending message into one full snapshot of the current state, and that is counted.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { NodeReport } from '../../proto/report.js';
import type { Envelope, Payload } from '../../proto/wire.js';

export const DEFAULT_OUTBOX_BYTES = 64 * 1024 * 1024;

interface OutboxOptions {
  dir: string;
  node: string;
  cluster: string;
  /** Transports that must each acknowledge a message before it leaves the outbox. */
  transports: string[];
  maxBytes?: number;
  onWarning?: (msg: string, detail: Record<string, unknown>) => void;
}

interface State {
  nextSeq: number;
  /** This run's epoch: chosen at open, stamped on every message it writes (older entries keep theirs). */
  epoch: string;
  cursors: Record<string, number>;
  foldedDeltas: number;
}

interface Entry { envelope: Envelope; bytes: number }

const ENTRY_RE = /^(\d{1,16})\.json$/;
const entryName = (seq: number): string => `${String(seq).padStart(16, '0')}.json`;

function writeDurably(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

export class Outbox extends EventEmitter {
  readonly maxBytes: number;
  private readonly entries: Entry[] = [];
  private state: State;
  private totalBytes = 0;

  private constructor(private readonly opts: OutboxOptions, state: State) {
    super();
    this.maxBytes = opts.maxBytes ?? DEFAULT_OUTBOX_BYTES;
    this.state = state;
  }

  /** Opens (creating if needed) the outbox in opts.dir, reloading unacknowledged messages. */
  static open(opts: OutboxOptions): Outbox {
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const statePath = join(opts.dir, 'state.json');
    let state: State | undefined;
    try {
      const raw = JSON.parse(fs.readFileSync(statePath, 'utf8')) as Partial<State>;
      if (Number.isSafeInteger(raw.nextSeq) && raw.nextSeq! > 0) {
        state = { nextSeq: raw.nextSeq!, epoch: '', cursors: raw.cursors ?? {}, foldedDeltas: raw.foldedDeltas ?? 0 };
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        opts.onWarning?.('outbox state unreadable; continuing from the entry files', { err });
      }
    }
    // A new outbox starts numbering at the wall clock in ms, not 1: an agent whose outbox was wiped must
    // not reuse numbers the collector already holds for this node (they would be dropped as duplicates).
    state ??= { nextSeq: Date.now(), epoch: '', cursors: {}, foldedDeltas: 0 };
    // Every run numbers in a new epoch, so the collector can tell this run's messages from anything older.
    state.epoch = randomBytes(12).toString('base64url');
    const box = new Outbox(opts, state);
    box.load();
    for (const t of opts.transports) box.state.cursors[t] ??= box.state.nextSeq - 1;
    box.persistState();
    return box;
  }

  private load(): void {
    const names = fs.readdirSync(this.opts.dir).filter((n) => ENTRY_RE.test(n)).sort();
    for (const name of names) {
      const path = join(this.opts.dir, name);
      try {
        const text = fs.readFileSync(path, 'utf8');
        const envelope = JSON.parse(text) as Envelope;
        if (!Number.isSafeInteger(envelope.seq) || !envelope.payload) throw new Error('not an outbox entry');
        this.entries.push({ envelope, bytes: Buffer.byteLength(text) });
        this.totalBytes += Buffer.byteLength(text);
        if (envelope.seq >= this.state.nextSeq) this.state.nextSeq = envelope.seq + 1;
      } catch (err) {
        // A torn write from a crash: the message never counted as queued.
        this.opts.onWarning?.('dropping unreadable outbox entry', { file: name, err });
        fs.rmSync(path, { force: true });
      }
    }
    this.entries.sort((a, b) => a.envelope.seq - b.envelope.seq);
  }

  private persistState(): void {
    writeDurably(join(this.opts.dir, 'state.json'), JSON.stringify(this.state));
  }

  get depth(): number { return this.entries.length; }
  get bytes(): number { return this.totalBytes; }
  get foldedDeltas(): number { return this.state.foldedDeltas; }
  /** The last seq handed out (0 before the first). */
  get lastSeq(): number { return this.state.nextSeq - 1; }
  get epoch(): string { return this.state.epoch; }
  cursor(transport: string): number { return this.state.cursors[transport] ?? this.lastSeq; }

  /**
   * Queues a message durably and returns it. A delta that would overflow the bound folds every pending
   * message into a full snapshot of `current()` (the state after this delta) instead.
   */
  append(payload: Payload, current: () => NodeReport): Envelope {
    if (payload.kind === 'delta') {
      const size = Buffer.byteLength(JSON.stringify(payload));
      if (this.totalBytes + size > this.maxBytes) return this.fold(current());
    }
    return this.write(payload);
  }

  private fold(report: NodeReport): Envelope {
    const folded = this.entries.filter((e) => e.envelope.payload.kind === 'delta').length + 1;
    for (const e of this.entries) fs.rmSync(join(this.opts.dir, entryName(e.envelope.seq)), { force: true });
    this.entries.length = 0;
    this.totalBytes = 0;
    this.state.foldedDeltas += folded;
    this.opts.onWarning?.('outbox full: pending deltas folded into a full snapshot', { folded, maxBytes: this.maxBytes });
    this.emit('folded', folded);
    // The transports skip straight to the snapshot: what they had not sent is gone.
    const envelope = this.write({ kind: 'full', report });
    for (const t of Object.keys(this.state.cursors)) {
      this.state.cursors[t] = Math.max(this.state.cursors[t], envelope.seq - 1);
    }
    this.persistState();
    return envelope;
  }

  private write(payload: Payload): Envelope {
    const envelope: Envelope = { node: this.opts.node, cluster: this.opts.cluster, epoch: this.state.epoch, seq: this.state.nextSeq, payload };
    const text = JSON.stringify(envelope);
    writeDurably(join(this.opts.dir, entryName(envelope.seq)), text);
    this.state.nextSeq++;
    this.entries.push({ envelope, bytes: Buffer.byteLength(text) });
    this.totalBytes += Buffer.byteLength(text);
    if (payload.kind === 'full' && this.totalBytes > this.maxBytes) {
      this.opts.onWarning?.('a full snapshot alone exceeds the outbox bound; kept anyway', { bytes: text.length });
    }
    this.emit('appended', envelope);
    return envelope;
  }

  /** Messages the transport has not had acknowledged yet, oldest first. */
  pending(transport: string, afterSeq = this.cursor(transport)): Envelope[] {
    const out: Envelope[] = [];
    for (const e of this.entries) if (e.envelope.seq > afterSeq) out.push(e.envelope);
    return out;
  }

  /** The transport has every message up to seq; messages every transport has are deleted. */
  ack(transport: string, seq: number): void {
    if (seq <= this.cursor(transport)) return;
    this.state.cursors[transport] = Math.min(seq, this.lastSeq);
    const done = Math.min(...this.opts.transports.map((t) => this.cursor(t)));
    this.persistState();
    while (this.entries.length > 0 && this.entries[0].envelope.seq <= done) {
      const e = this.entries.shift()!;
      this.totalBytes -= e.bytes;
      fs.rmSync(join(this.opts.dir, entryName(e.envelope.seq)), { force: true });
    }
    this.emit('acked', transport, seq);
  }
}
