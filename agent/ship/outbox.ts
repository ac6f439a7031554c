// The durable outbox: every report and delta, numbered, on the node's disk until every transport has it.
//
// One file per message (`<seq>.json`) and a small state file (next seq, the run's epoch, each transport's acknowledged
// seq, folded-delta count). Every file is written to a temporary name, checked to be complete, fsynced, renamed into place and its dir
// fsynced: a message counts as durable only then. The seq never goes back: it survives restarts through the state
// file and the entry files.
//
// Bounded by maxBytes whatever the mix of messages: past the bound, the messages older than the latest full snapshot
// are dropped (it supersedes them); when that is not enough, every pending message folds into one full snapshot of
// the current state. Both are counted as folded deltas.
//
// A failed write (ENOSPC, EIO, …) never stops the agent: the message is kept in memory and delivered from there,
// `degraded` says why (the daemon turns it into a finding and a metric), and the first write that succeeds again
// writes the messages held in memory and clears it.
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

interface Entry {
  envelope: Envelope;
  bytes: number;
  /** On disk (false: held in memory after a failed write). */
  durable: boolean;
}

/** Why the outbox cannot write to its disk, since when. */
export interface OutboxProblem {
  code: string;
  message: string;
  since: number;
}

const ENTRY_RE = /^(\d{1,16})\.json$/;
const entryName = (seq: number): string => `${String(seq).padStart(16, '0')}.json`;
const errorCode = (err: unknown): string => {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' ? code : 'EIO';
};

/** Writes a whole file or throws: every byte written (a short write is retried, never renamed into place), fsynced. */
function writeDurably(path: string, data: Buffer): void {
  const tmp = `${path}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w', 0o600);
    for (let offset = 0; offset < data.length;) {
      const written = fs.writeSync(fd, data, offset, data.length - offset);
      if (written <= 0) throw Object.assign(new Error(`write to ${tmp} made no progress`), { code: 'EIO' });
      offset += written;
    }
    fs.fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    fs.closeSync(closing);
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) try { fs.closeSync(fd); } catch { /* already failing */ }
    try { fs.rmSync(tmp, { force: true }); } catch { /* nothing more to free */ }
    throw err;
  }
}

/** The rename is durable once the directory is. */
function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

export class Outbox extends EventEmitter {
  readonly maxBytes: number;
  private readonly entries: Entry[] = [];
  private state: State;
  private totalBytes = 0;
  private problem?: OutboxProblem;
  /** Entries found torn or unreadable when the outbox was opened (dropped). */
  unreadableAtOpen = 0;

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
    const known = state !== undefined;
    // A new outbox starts numbering at the wall clock in ms, not 1: an agent whose outbox was wiped must
    // not reuse numbers the collector already holds for this node (they would be dropped as duplicates).
    state ??= { nextSeq: Date.now(), epoch: '', cursors: {}, foldedDeltas: 0 };
    // Every run numbers in a new epoch, so the collector can tell this run's messages from anything older.
    state.epoch = randomBytes(12).toString('base64url');
    const box = new Outbox(opts, state);
    box.load();
    // Without the state file nobody knows what was acknowledged: everything on disk is sent again (the collector dedupes).
    const start = known || box.entries.length === 0 ? box.state.nextSeq - 1 : box.entries[0].envelope.seq - 1;
    for (const t of opts.transports) box.state.cursors[t] ??= start;
    box.persistState();
    return box;
  }

  private load(): void {
    const names = fs.readdirSync(this.opts.dir);
    for (const name of names.filter((n) => n.endsWith('.tmp'))) {
      // A write that never completed: its message never counted as queued.
      fs.rmSync(join(this.opts.dir, name), { force: true });
    }
    for (const name of names.filter((n) => ENTRY_RE.test(n)).sort()) {
      const path = join(this.opts.dir, name);
      try {
        const text = fs.readFileSync(path, 'utf8');
        const envelope = JSON.parse(text) as Envelope;
        if (!Number.isSafeInteger(envelope.seq) || !envelope.payload) throw new Error('not an outbox entry');
        const bytes = Buffer.byteLength(text);
        this.entries.push({ envelope, bytes, durable: true });
        this.totalBytes += bytes;
        if (envelope.seq >= this.state.nextSeq) this.state.nextSeq = envelope.seq + 1;
      } catch (err) {
        // Torn (a crash or a full disk before this outbox checked its writes) or damaged: only this message is lost.
        this.unreadableAtOpen++;
        this.opts.onWarning?.('dropping an unreadable outbox entry (only this message is lost)', { file: name, err });
        fs.rmSync(path, { force: true });
      }
    }
    this.entries.sort((a, b) => a.envelope.seq - b.envelope.seq);
  }

  get depth(): number { return this.entries.length; }
  get bytes(): number { return this.totalBytes; }
  get foldedDeltas(): number { return this.state.foldedDeltas; }
  /** Set while the outbox cannot write to its disk. */
  get degraded(): OutboxProblem | undefined { return this.problem; }
  /** The last seq handed out (0 before the first). */
  get lastSeq(): number { return this.state.nextSeq - 1; }
  get epoch(): string { return this.state.epoch; }
  cursor(transport: string): number { return this.state.cursors[transport] ?? this.lastSeq; }

  /**
   * Queues a message and returns it. Past the bound, older messages make room (see the top of this file); a delta
   * that still does not fit folds everything pending into a full snapshot of `current()` (the state after it).
   */
  append(payload: Payload, current: () => NodeReport): Envelope {
    // Serialized once: a full snapshot of a big node is megabytes.
    const text = JSON.stringify(this.envelope(payload));
    const size = Buffer.byteLength(text);
    if (this.totalBytes + size > this.maxBytes) {
      if (payload.kind === 'full') this.dropBefore(this.entries.length);
      else {
        this.dropBefore(this.latestFullIndex());
        if (this.totalBytes + size > this.maxBytes) return this.fold(current());
      }
    }
    return this.write(payload, text);
  }

  private envelope(payload: Payload): Envelope {
    return { node: this.opts.node, cluster: this.opts.cluster, epoch: this.state.epoch, seq: this.state.nextSeq, payload };
  }

  private latestFullIndex(): number {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i].envelope.payload.kind === 'full') return i;
    return 0;
  }

  /** Drops the first `count` entries (superseded by a later full snapshot); the transports skip past them. */
  private dropBefore(count: number): void {
    if (count <= 0) return;
    const dropped = this.entries.splice(0, count);
    const deltas = dropped.filter((e) => e.envelope.payload.kind === 'delta').length;
    for (const e of dropped) this.remove(e);
    this.state.foldedDeltas += deltas;
    const next = this.entries[0]?.envelope.seq ?? this.state.nextSeq;
    for (const t of Object.keys(this.state.cursors)) this.state.cursors[t] = Math.max(this.state.cursors[t], next - 1);
    this.opts.onWarning?.('outbox full: messages older than the latest full snapshot dropped', { dropped: dropped.length, deltas, maxBytes: this.maxBytes });
    if (deltas > 0) this.emit('folded', deltas);
    this.persistState();
  }

  private fold(report: NodeReport): Envelope {
    const folded = this.entries.filter((e) => e.envelope.payload.kind === 'delta').length + 1;
    for (const e of this.entries) this.remove(e);
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

  private remove(e: Entry): void {
    this.totalBytes -= e.bytes;
    if (!e.durable) return;
    try {
      fs.rmSync(join(this.opts.dir, entryName(e.envelope.seq)), { force: true });
    } catch (err) {
      this.opts.onWarning?.('could not delete a delivered outbox entry', { seq: e.envelope.seq, err });
    }
  }

  /** `text`: the envelope serialized, when the caller has it already (the seq is the same: nothing was written since). */
  private write(payload: Payload, text?: string): Envelope {
    const envelope = this.envelope(payload);
    text ??= JSON.stringify(envelope);
    const entry: Entry = { envelope, bytes: Buffer.byteLength(text), durable: false };
    this.state.nextSeq++;
    this.entries.push(entry);
    this.totalBytes += entry.bytes;
    if (this.persistEntry(entry, text)) this.recovered();
    if (payload.kind === 'full' && this.totalBytes > this.maxBytes) {
      this.opts.onWarning?.('a full snapshot alone exceeds the outbox bound; kept anyway', { bytes: entry.bytes, maxBytes: this.maxBytes });
    }
    this.emit('appended', envelope);
    return envelope;
  }

  /** Writes one entry to disk; on failure it stays in memory and the outbox is degraded. */
  private persistEntry(entry: Entry, text = JSON.stringify(entry.envelope)): boolean {
    try {
      writeDurably(join(this.opts.dir, entryName(entry.envelope.seq)), Buffer.from(text));
      syncDir(this.opts.dir);
      entry.durable = true;
      return true;
    } catch (err) {
      this.failed(err, `queuing seq ${entry.envelope.seq}`);
      return false;
    }
  }

  private persistState(): boolean {
    try {
      writeDurably(join(this.opts.dir, 'state.json'), Buffer.from(JSON.stringify(this.state)));
      syncDir(this.opts.dir);
      return true;
    } catch (err) {
      this.failed(err, 'saving the outbox state');
      return false;
    }
  }

  private failed(err: unknown, doing: string): void {
    const code = errorCode(err);
    // The first failure describes the trouble until it ends; later ones only count.
    if (this.problem === undefined || this.problem.code !== code) {
      this.opts.onWarning?.('outbox cannot write to its disk; holding messages in memory', { code, err });
      this.problem = { code, message: `${doing}: ${(err as Error)?.message ?? String(err)}`, since: this.problem?.since ?? Date.now() };
    }
    this.emit('write-failed', code, this.problem);
  }

  /** A write succeeded while degraded: the messages held in memory and the state go to disk too. */
  private recovered(): void {
    if (!this.problem) return;
    for (const e of this.entries) if (!e.durable && !this.persistEntry(e)) return;
    if (!this.persistState()) return;
    const was = this.problem;
    this.problem = undefined;
    this.opts.onWarning?.('outbox writes to its disk again', { code: was.code, heldMs: Date.now() - was.since });
    this.emit('write-recovered');
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
    while (this.entries.length > 0 && this.entries[0].envelope.seq <= done) this.remove(this.entries.shift()!);
    // An ack that cannot be saved only means a resend after a restart (the collector dedupes).
    if (this.persistState()) this.recovered();
    this.emit('acked', transport, seq);
  }
}
