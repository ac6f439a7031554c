// The live feed behind GET /api/v1/events (server-sent events): what the store committed (`change`, coalesced), a
// correlation result that differs from the last one (`correlations`), a node turning silent or reporting again
// (`node`), and a keep-alive comment so proxies keep the stream open. Bounded: at most `maxClients` streams, and a
// client that stops reading is dropped instead of buffered for.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CorrelationSnapshot } from '../correlate/engine.js';
import { CORRELATION_KINDS, type CorrelationKind } from '../correlate/types.js';
import { MAX_CHANGED_NODES, type Store, type StoredChanges } from '../store/types.js';
import { iso } from './present.js';

export interface LiveEventsOptions {
  version: string;
  /** Most open streams; more are refused (503). */
  maxClients: number;
  /** A `: keep-alive` comment at least this often. */
  heartbeatMs: number;
  /** At most one `change` event per this many ms; changes in between are summed into the next. */
  coalesceMs: number;
  /** How often, while streams are open, nodes are checked for silence. */
  watchMs: number;
  /** A node is silent when its last report is older than this. */
  silentAfterMs: number;
  /** Least time between correlation runs: after a change, correlations are asked for again this much later. */
  recomputeAfterMs: number;
  /** The reconnection delay the first message tells clients. */
  retryMs: number;
  now(): number;
  log: Logger;
}

export const LIVE_DEFAULTS = { maxClients: 64, heartbeatMs: 15_000, coalesceMs: 250, watchMs: 5_000, retryMs: 2_000 };

/** A client that has this much unsent is not reading: dropped. */
const MAX_UNSENT_BYTES = 1024 * 1024;

interface PendingChange { nodes: Set<string>; truncated: boolean; opened: number; changed: number; resolved: number }

interface LiveSources {
  store: Pick<Store, 'nodes'>;
  correlations(): Promise<CorrelationSnapshot>;
}

export class LiveEvents {
  private readonly clients = new Set<ServerResponse>();
  private nextId = 1;
  private closed = false;
  private pending: PendingChange | undefined;
  private lastChangeSent = 0;
  private changeTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private watching: Promise<void> | undefined;
  /** Nodes known to be silent (undefined until the first check after a client connects). */
  private silent: Set<string> | undefined;
  private correlationKey: string | undefined;
  private lastComputeMs = 0;
  private lastChangeAt = -Infinity;
  private recompute: NodeJS.Timeout | undefined;

  constructor(private readonly sources: LiveSources, private readonly opts: LiveEventsOptions) {}

  get size(): number {
    return this.clients.size;
  }

  hasRoom(): boolean {
    return !this.closed && this.clients.size < this.opts.maxClients;
  }

  /** Takes over an HTTP response whose headers are written: greets it, then sends it every event until it closes. */
  attach(res: ServerResponse): void {
    if (this.closed) { res.end(); return; }
    this.clients.add(res);
    res.on('close', () => this.detach(res));
    this.write(res, this.message('hello', { version: this.opts.version, at: iso(this.opts.now()) }, `retry: ${this.opts.retryMs}\n`));
    if (this.clients.size === 1) this.startTimers();
  }

  /** The store's observer: what a committed transaction changed. */
  stored(changes: StoredChanges): void {
    this.lastChangeAt = this.opts.now();
    if (this.closed || this.clients.size === 0) return;
    const p = this.pending ??= { nodes: new Set(), truncated: false, opened: 0, changed: 0, resolved: 0 };
    for (const node of changes.nodes) {
      if (p.nodes.size < MAX_CHANGED_NODES) p.nodes.add(node);
      else if (!p.nodes.has(node)) p.truncated = true;
    }
    p.truncated ||= changes.truncated;
    p.opened += changes.opened;
    p.changed += changes.changed;
    p.resolved += changes.resolved;
    if (!this.changeTimer) {
      const wait = Math.max(0, this.lastChangeSent + this.opts.coalesceMs - performance.now());
      this.changeTimer = setTimeout(() => this.flushChange(), wait);
      this.changeTimer.unref();
    }
    this.followCorrelations();
  }

  /** The correlation engine's hook: announces a result that differs from the previous one. */
  computed(snapshot: CorrelationSnapshot): void {
    this.lastComputeMs = snapshot.ms;
    const hash = createHash('sha256');
    for (const c of [...snapshot.items].sort((a, b) => (a.id < b.id ? -1 : 1))) hash.update(`${c.id}\u0000${c.severity}\u0000${c.nodes.join(',')}\n`);
    const key = hash.digest('hex');
    const changed = this.correlationKey !== undefined && key !== this.correlationKey;
    this.correlationKey = key;
    if (!changed || this.closed) return;
    const counts = Object.fromEntries(CORRELATION_KINDS.map((k) => [k, 0])) as Record<CorrelationKind, number>;
    for (const c of snapshot.items) counts[c.kind]++;
    this.broadcast(this.message('correlations', { computedAt: iso(snapshot.computedAt), counts }));
  }

  /** Ends every stream and stops the timers; the collector's shutdown does not wait for clients. */
  close(): void {
    this.closed = true;
    this.stopTimers();
    clearTimeout(this.changeTimer);
    clearTimeout(this.recompute);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private detach(res: ServerResponse): void {
    if (!this.clients.delete(res)) return;
    if (this.clients.size === 0) {
      this.stopTimers();
      this.pending = undefined;
    }
  }

  private startTimers(): void {
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), this.opts.heartbeatMs);
    this.heartbeat.unref();
    this.watcher = setInterval(() => { void this.watchSilence(); }, this.opts.watchMs);
    this.watcher.unref();
    void this.watchSilence();
  }

  private stopTimers(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.watcher);
    this.heartbeat = undefined;
    this.watcher = undefined;
    this.silent = undefined;
  }

  private flushChange(): void {
    this.changeTimer = undefined;
    const p = this.pending;
    this.pending = undefined;
    if (!p || this.closed) return;
    this.lastChangeSent = performance.now();
    this.broadcast(this.message('change', {
      at: iso(this.opts.now()), nodes: [...p.nodes], ...(p.truncated ? { truncated: true } : {}),
      opened: p.opened, changed: p.changed, resolved: p.resolved,
    }));
  }

  /**
   * Correlations are computed when asked for, at most every recomputeAfterMs (and 5× the last run's duration).
   * While streams are open, they are asked for again once that has passed after a change, so a result that
   * changes reaches the page even when nobody queries meanwhile.
   */
  private followCorrelations(): void {
    if (this.recompute || this.closed || this.clients.size === 0) return;
    const wait = Math.max(this.opts.recomputeAfterMs, 5 * this.lastComputeMs) + 50;
    this.recompute = setTimeout(() => {
      this.recompute = undefined;
      this.sources.correlations().then((snap) => {
        // The engine answered with an older result (a slow run is still going): ask again later.
        if (snap.computedAt < this.lastChangeAt) this.followCorrelations();
      }, (err: unknown) => this.opts.log.warn({ err }, 'live events: correlations failed'));
    }, wait);
    this.recompute.unref();
  }

  /** Compares the silent nodes with the last check: `node` events for each that turned silent or reports again. */
  private watchSilence(): Promise<void> {
    this.watching ??= (async () => {
      try {
        const threshold = this.opts.now() - this.opts.silentAfterMs;
        const silent = new Set<string>();
        let after: string | undefined;
        do {
          const page = await this.sources.store.nodes({ reportedBefore: threshold, limit: 5000, after });
          for (const n of page.items) silent.add(n.name);
          after = page.nextAfter ? String(page.nextAfter[0]) : undefined;
        } while (after !== undefined);
        if (this.closed || this.clients.size === 0) return;
        const known = this.silent;
        this.silent = silent;
        if (!known) return;
        let transitions = 0;
        for (const name of silent) if (!known.has(name)) { transitions++; this.broadcast(this.message('node', { name, status: 'silent' })); }
        for (const name of known) if (!silent.has(name)) { transitions++; this.broadcast(this.message('node', { name, status: 'reporting' })); }
        if (transitions > 0) this.followCorrelations();
      } catch (err) {
        this.opts.log.warn({ err }, 'live events: could not check for silent nodes');
      }
    })().finally(() => { this.watching = undefined; });
    return this.watching;
  }

  /** One event: an increasing id, its name, its data as one JSON line. */
  private message(event: string, data: unknown, prefix = ''): string {
    return `${prefix}id: ${this.nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  private broadcast(text: string): void {
    for (const res of this.clients) this.write(res, text);
  }

  private write(res: ServerResponse, text: string): void {
    if (res.writableLength > MAX_UNSENT_BYTES) {
      this.opts.log.warn({ unsent: res.writableLength }, 'live events: dropping a client that does not read');
      this.detach(res);
      res.destroy();
      return;
    }
    res.write(text);
  }
}
