// Watches host paths (mapped under the host root by HostAccess) and reports changed host paths in
// debounced batches. chokidar's raw events are used because its filtered `change` event skips
// metadata-only changes (a chmod after the file was read), which are exactly what we must see.
// When the kernel runs out of inotify watches, it falls back to polling the same targets and says so.
import { basename, join, posix, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { HostAccess } from '../gather/host.js';
import type { WatchTarget } from './targets.js';

interface HostWatcherOptions {
  host: HostAccess;
  onChange(paths: Set<string>): void;
  /** Quiet time after the last event before a batch is delivered. */
  debounceMs?: number;
  /** A burst is delivered at the latest this long after its first event. */
  maxWaitMs?: number;
  pollIntervalMs?: number;
  onFallback?(reason: string): void;
  onError?(err: Error): void;
}

const LIMIT_CODES = new Set(['ENOSPC', 'EMFILE', 'ENFILE']);

export class HostWatcher {
  mode: 'inotify' | 'polling' = 'inotify';
  fallbackReason?: string;
  private chokidar?: FSWatcher;
  private targets = new Map<string, WatchTarget>();
  /** agent-side path → host path, for every target. */
  private roots: Array<[string, string]> = [];
  private pending = new Set<string>();
  private quietTimer?: NodeJS.Timeout;
  private maxTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private pollSigs = new Map<string, string>();
  private closed = false;

  constructor(private readonly opts: HostWatcherOptions) {}

  /** Adds targets not watched yet (call again after a rescan finds new paths). */
  add(targets: WatchTarget[]): void {
    const fresh = targets.filter((t) => !this.targets.has(t.path));
    if (fresh.length === 0 || this.closed) return;
    for (const t of fresh) {
      this.targets.set(t.path, t);
      let agentPath: string;
      try { agentPath = this.opts.host.resolve(t.path); } catch { continue; } // symlink loop: the scan reports it
      this.roots.push([agentPath, t.path]);
    }
    this.roots.sort((a, b) => b[0].length - a[0].length);
    if (this.mode === 'polling') { this.pollOnce(false); return; }
    if (!this.chokidar) this.startChokidar();
    else this.chokidar.add(fresh.map((t) => this.opts.host.resolve(t.path)));
  }

  get watchedTargets(): number { return this.targets.size; }

  private maxDepth(): number {
    return Math.max(0, ...[...this.targets.values()].map((t) => t.depth ?? 0));
  }

  private startChokidar(): void {
    const w = watch(this.roots.map(([agent]) => agent), {
      ignoreInitial: true,
      persistent: true,
      followSymlinks: false,
      ignorePermissionErrors: true,
      atomic: false,
      depth: this.maxDepth(),
      ignored: (p: string) => this.tooDeep(p),
    });
    w.on('raw', (_event, name, details) => {
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!watched || !name) return;
      // A watcher on a file reports the file's own name; a watcher on a dir reports an entry's name.
      this.record(basename(watched) === name ? watched : join(watched, name));
    });
    w.on('all', (_event, p) => { if (typeof p === 'string') this.record(p); });
    w.on('error', (err: unknown) => this.handleWatchError(err as NodeJS.ErrnoException));
    this.chokidar = w;
  }

  /** Keeps chokidar from descending deeper than a target asks (the kubelet dir holds every pod's volumes). */
  private tooDeep(agentPath: string): boolean {
    const root = this.roots.find(([a]) => agentPath === a || agentPath.startsWith(a + sep));
    if (!root) return false; // an ancestor of a target
    const target = this.targets.get(root[1]);
    if (agentPath === root[0]) return false;
    if (target?.depth === undefined) return false;
    return relative(root[0], agentPath).split(sep).length > target.depth + 1;
  }

  /** Errors from the watcher: running out of inotify watches switches to polling; others are reported. */
  handleWatchError(err: NodeJS.ErrnoException): void {
    if (err.code && LIMIT_CODES.has(err.code)) {
      this.fallBackToPolling(`${err.code}: ${err.message}`);
      return;
    }
    this.opts.onError?.(err);
  }

  private fallBackToPolling(reason: string): void {
    if (this.mode === 'polling' || this.closed) return;
    this.mode = 'polling';
    this.fallbackReason = reason;
    void this.chokidar?.close();
    this.chokidar = undefined;
    this.opts.onFallback?.(reason);
    this.pollOnce(false);
    this.pollTimer = setInterval(() => this.pollOnce(true), this.opts.pollIntervalMs ?? 2_000);
    this.pollTimer.unref();
  }

  /** Stats every target (dirs to their depth) through HostAccess and records what differs since last time. */
  private pollOnce(report: boolean): void {
    const seen = new Set<string>();
    for (const t of this.targets.values()) {
      const facts = t.depth === undefined ? [this.opts.host.stat(t.path)] : this.opts.host.walk(t.path, 5_000)
        .filter((f) => posix.relative(t.path, f.path).split('/').length <= t.depth! + 1);
      for (const f of facts) {
        const sig = f.exists ? `${f.type}:${f.mode}:${f.uid}:${f.gid}:${f.size}` : 'absent';
        seen.add(f.path);
        if (report && this.pollSigs.get(f.path) !== sig) this.recordHost(f.path);
        this.pollSigs.set(f.path, sig);
      }
    }
    for (const p of this.pollSigs.keys()) {
      if (!seen.has(p)) { this.pollSigs.delete(p); if (report) this.recordHost(p); }
    }
  }

  private record(agentPath: string): void {
    const root = this.roots.find(([a]) => agentPath === a || agentPath.startsWith(a + sep));
    if (!root) return;
    const rest = relative(root[0], agentPath);
    this.recordHost(rest ? posix.join(root[1], ...rest.split(sep)) : root[1]);
  }

  private recordHost(hostPath: string): void {
    if (this.closed) return;
    this.pending.add(hostPath);
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.flush(), this.opts.debounceMs ?? 50);
    this.maxTimer ??= setTimeout(() => this.flush(), this.opts.maxWaitMs ?? 250);
  }

  private flush(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Set();
    this.opts.onChange(batch);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    clearInterval(this.pollTimer);
    await this.chokidar?.close();
  }
}
