// Opening paths beneath a root directory without ever leaving it, even while the tree changes under us.
//
// Resolving symlinks with lstat and then opening the resolved path is a race: between the two, a component can be
// swapped for a symlink to anywhere, and open(2) follows it. Here every step is taken from a file descriptor of the
// directory reached so far: the next component is opened with O_NOFOLLOW through /proc/self/fd/N/<name> (Node has
// no openat), so a symlink is never followed by the kernel; it is read and resolved by us, absolute targets from
// the root, `..` never above it. What is opened is therefore always inside the root, whatever changes meanwhile.
// (The one case this cannot catch is a directory already open being moved out of the root by rename(2).)
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Linux O_PATH (x86, arm, and the generic ABI): a descriptor only for resolving names, needing search permission only. */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW } = fs.constants;
const DIR_FLAGS = O_PATH | O_DIRECTORY | O_NOFOLLOW;
const MAX_SYMLINK_HOPS = 40;
/** Directory descriptors are reused this long (one scan), then closed: a long-lived HostAccess never sees a stale tree. */
const DIR_TTL_MS = 2_000;
const MAX_CACHED_DIRS = 256;

const fdPath = (fd: number): string => `/proc/self/fd/${fd}`;

/** Whether this process can name its descriptors through /proc/self/fd (it always can on Linux with /proc mounted). */
export const canWalkBeneath = ((): boolean => {
  try { return fs.readdirSync('/proc/self/fd').length > 0; } catch { return false; }
})();

interface CachedDir { fd: number; physical: string[]; expires: number }

type Final =
  | { kind: 'open'; flags: number }
  | { kind: 'dir' }
  | { kind: 'lstat'; bigint?: boolean };

type Reached = { fd: number; agentPath: string } | { stats: fs.Stats | fs.BigIntStats; agentPath: string };

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

const dirs = new Set<Beneath>();
let sweeper: NodeJS.Timeout | undefined;

/** Closes what expired in every tree; keeps running while any descriptor is open. */
function sweep(): void {
  sweeper = undefined;
  const now = Date.now();
  for (const tree of dirs) tree.closeExpired(now);
  if (dirs.size > 0) armSweeper();
}

function armSweeper(): void {
  sweeper ??= setTimeout(sweep, DIR_TTL_MS).unref();
}

/** A directory tree every path of which is resolved inside `root` (a host root, or a process's /proc/PID/root). */
export class Beneath {
  private root?: CachedDir;
  private readonly cache = new Map<string, CachedDir>();

  constructor(readonly rootPath: string) {}

  /** Opens a host path (its final symlinks resolved inside the root) with `flags` | O_NOFOLLOW. */
  open(hostPath: string, flags: number): { fd: number; agentPath: string } {
    return this.walk(hostPath, { kind: 'open', flags }) as { fd: number; agentPath: string };
  }

  /** The entries of a directory (symlinks resolved inside the root). */
  readDir(hostPath: string): fs.Dirent[] {
    const reached = this.walk(hostPath, { kind: 'dir' }) as { fd: number; agentPath: string };
    try {
      return fs.readdirSync(fdPath(reached.fd), { withFileTypes: true });
    } catch (err) {
      throw renamed(err as NodeJS.ErrnoException, fdPath(reached.fd), reached.agentPath);
    }
  }

  /** stat(2) of a host path, symlinks followed inside the root. */
  stat(hostPath: string): fs.Stats {
    return (this.walk(hostPath, { kind: 'lstat' }) as { stats: fs.Stats }).stats;
  }

  /** stat(2) with nanosecond times, for identity keys. */
  statBig(hostPath: string): fs.BigIntStats {
    return (this.walk(hostPath, { kind: 'lstat', bigint: true }) as { stats: fs.BigIntStats }).stats;
  }

  /** Closes every descriptor held (they are reopened on demand). */
  close(): void {
    this.closeExpired(Infinity);
  }

  closeExpired(now: number): void {
    for (const [key, d] of this.cache) {
      if (d.expires <= now) { this.cache.delete(key); safeClose(d.fd); }
    }
    if (this.root && this.root.expires <= now) { safeClose(this.root.fd); this.root = undefined; }
    if (this.cache.size === 0 && !this.root) dirs.delete(this);
  }

  private rootDir(): CachedDir {
    const now = Date.now();
    if (this.root && this.root.expires > now) return this.root;
    if (this.root) safeClose(this.root.fd);
    // The root itself is trusted (the operator's --host-root, or a /proc/PID/root link): it is followed.
    const fd = fs.openSync(this.rootPath, O_PATH | O_DIRECTORY);
    this.root = { fd, physical: [], expires: now + DIR_TTL_MS };
    dirs.add(this);
    armSweeper();
    return this.root;
  }

  private cachedDir(key: string, now: number): CachedDir | undefined {
    const d = this.cache.get(key);
    if (!d) return undefined;
    if (d.expires > now) return d;
    this.cache.delete(key);
    safeClose(d.fd);
    return undefined;
  }

  private remember(key: string, fd: number, physical: string[], now: number): CachedDir {
    const d: CachedDir = { fd, physical: [...physical], expires: now + DIR_TTL_MS };
    this.cache.set(key, d);
    return d;
  }

  private trim(): void {
    while (this.cache.size > MAX_CACHED_DIRS) {
      const [key, d] = this.cache.entries().next().value!;
      this.cache.delete(key);
      safeClose(d.fd);
    }
  }

  private walk(hostPath: string, final: Final): Reached {
    this.trim();
    const now = Date.now();
    const normal = path.posix.normalize('/' + hostPath);
    const parts = normal.split('/').filter(Boolean);
    const wantDir = final.kind === 'dir';
    // Start from the deepest directory of this path already open (the final component too, for a directory).
    let cur = this.rootDir();
    let start = 0;
    for (let k = wantDir ? parts.length : parts.length - 1; k > 0; k--) {
      const cached = this.cachedDir(parts.slice(0, k).join('/'), now);
      if (cached) { cur = cached; start = k; break; }
    }
    let physical = [...cur.physical];
    /** Pending names; a `cacheAs` step marks where a prefix of the caller's path is fully resolved. */
    const queue: { name: string; cacheAs?: string }[] = [];
    for (let k = start; k < parts.length; k++) {
      queue.push({ name: parts[k] });
      if (k < parts.length - 1 || wantDir) queue.push({ name: '', cacheAs: parts.slice(0, k + 1).join('/') });
    }
    let names = parts.length - start; // names (not markers) left in the queue
    let owned: number | undefined; // the descriptor of this walk not (yet) in the cache
    const moveTo = (fd: number, isOwned: boolean): void => {
      if (owned !== undefined && owned !== fd) safeClose(owned);
      owned = isOwned ? fd : undefined;
      cur = { fd, physical, expires: 0 };
    };
    const pushFront = (more: string[]): void => {
      const real = more.filter((n) => n !== '' && n !== '.');
      queue.unshift(...real.map((n) => ({ name: n })));
      names += real.length;
    };
    const tooMany = (): NodeJS.ErrnoException => errnoError('ELOOP', `too many levels of symbolic links: ${normal}`);
    let hops = 0;
    try {
      while (queue.length > 0) {
        const step = queue.shift()!;
        if (step.cacheAs !== undefined) {
          if (owned !== undefined && owned === cur.fd) { this.remember(step.cacheAs, owned, physical, now); owned = undefined; }
          continue;
        }
        names--;
        const { name } = step;
        if (name === '..') {
          // Never the kernel's `..`: walk again from the root to the parent, which stays inside it.
          const up = physical.slice(0, -1);
          physical = [];
          moveTo(this.rootDir().fd, false);
          pushFront(up);
          continue;
        }
        const isLast = names === 0;
        const here = `${fdPath(cur.fd)}/${name}`;
        const agentPath = (): string => path.join(this.rootPath, ...physical, name,
          ...queue.filter((q) => q.cacheAs === undefined).map((q) => q.name));
        try {
          if (!isLast || wantDir) {
            const fd = fs.openSync(here, DIR_FLAGS);
            physical = [...physical, name];
            moveTo(fd, true);
            continue;
          }
          if (final.kind === 'open') return { fd: fs.openSync(here, final.flags | O_NOFOLLOW), agentPath: agentPath() };
          const stats = final.bigint ? fs.lstatSync(here, { bigint: true }) : fs.lstatSync(here);
          if (!stats.isSymbolicLink()) return { stats, agentPath: agentPath() };
          throw errnoError('ELOOP', 'a symlink');
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          if (e.code !== 'ELOOP' && e.code !== 'ENOTDIR') throw renamed(e, here, agentPath());
          // O_NOFOLLOW met a symlink (ELOOP, or ENOTDIR with O_DIRECTORY), or a file sits where a directory should.
          let target: string | undefined;
          try { target = fs.readlinkSync(here); } catch (rl) {
            const r = rl as NodeJS.ErrnoException;
            if (r.code === 'EINVAL' && e.code === 'ENOTDIR') throw renamed(e, here, agentPath());
            if (r.code !== 'EINVAL' && r.code !== 'ENOENT') throw renamed(r, here, agentPath());
          }
          if (++hops > MAX_SYMLINK_HOPS) throw tooMany();
          if (target === undefined) { pushFront([name]); continue; } // no longer a symlink: look again
          if (target.startsWith('/')) {
            physical = [];
            moveTo(this.rootDir().fd, false);
          }
          pushFront(target.split('/'));
        }
      }
      // Every name is consumed: the path is a directory (the root, a `..`, or what was asked for).
      const agentPath = path.join(this.rootPath, ...physical);
      if (final.kind === 'open') return { fd: fs.openSync(fdPath(cur.fd), final.flags), agentPath };
      if (final.kind === 'lstat') return { stats: final.bigint ? fs.statSync(fdPath(cur.fd), { bigint: true }) : fs.statSync(fdPath(cur.fd)), agentPath };
      if (owned !== undefined && owned === cur.fd) { this.remember(parts.join('/'), owned, physical, now); owned = undefined; }
      return { fd: cur.fd, agentPath };
    } finally {
      if (owned !== undefined) safeClose(owned);
    }
  }
}

/** An fs error about /proc/self/fd/N/name, told as the path the agent would have opened. */
function renamed(e: NodeJS.ErrnoException, passed: string, agentPath: string): NodeJS.ErrnoException {
  if (typeof e.message === 'string') e.message = e.message.split(passed).join(agentPath);
  if (e.path === passed) e.path = agentPath;
  return e;
}

function safeClose(fd: number): void {
  try { fs.closeSync(fd); } catch { /* already closed */ }
}
