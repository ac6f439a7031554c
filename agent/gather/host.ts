// The one door to the host. Every host file and every /proc entry is read through a HostAccess, rooted
// at --host-root and --proc-root, so tests run on fixture trees and the DaemonSet reads the host at /host.
//
// Hostile data is normal here: files vanish between readdir and open, symlinks loop or point at absolute
// host paths (which must resolve under the host root, not in the agent's own container), a FIFO sits
// where a config should be, a config is 50 MB. None of these may crash a scan or block it: each becomes
// a GatherError that the caller turns into an error finding or evidence.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileFact, FileType, GatherError } from '../facts/snapshot.js';
import { Beneath, canWalkBeneath } from './beneath.js';

interface HostOptions {
  hostRoot: string;
  procRoot: string;
}

/** Default bound for config-like files; larger files are refused with EFBIG, not read. */
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const MAX_SYMLINK_HOPS = 40;
/** How long resolve() remembers a resolved directory (a scan): a long-lived HostAccess must not keep stale answers. */
const RESOLVED_DIRS_TTL_MS = 2_000;
const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

type ReadResult = { ok: true; data: Buffer } | { ok: false; error: GatherError };
type TextResult = { ok: true; text: string } | { ok: false; error: GatherError };

function toGatherError(p: string, err: unknown): GatherError {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : 'EIO';
  const message = e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(err);
  return { path: p, code, message };
}

function fileType(st: fs.Stats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

export class HostAccess {
  readonly hostRoot: string;
  readonly procRoot: string;
  private readonly identityRoot: boolean;
  /** Opens paths beneath the host root without following a symlink out of it (none with host root `/`). */
  private readonly beneath?: Beneath;
  private users?: Map<number, string>;
  private groups?: Map<number, string>;
  /** Resolved dir prefixes for resolve(), briefly: paths share /etc/kubernetes/... prefixes. */
  private readonly resolvedDirs = new Map<string, string>();
  private resolvedDirsSince = 0;
  private readonly views = new Map<number, HostAccess>();

  /** `idsFrom`: a HostAccess whose /etc/passwd and /etc/group name owners (a process view names them as the host does). */
  constructor(opts: HostOptions, private readonly idsFrom?: HostAccess) {
    this.hostRoot = path.resolve(opts.hostRoot);
    this.procRoot = path.resolve(opts.procRoot);
    this.identityRoot = this.hostRoot === '/';
    if (!this.identityRoot && canWalkBeneath) this.beneath = new Beneath(this.hostRoot);
  }

  /**
   * The files as process `pid` sees them, through /proc/PID/root (for a static pod, its container's view): what a
   * component really reads when it opens a path it was given. The host's view when that link cannot be read (a
   * fixture's proc root, or no permission).
   */
  processView(pid: number | undefined): HostAccess {
    if (pid === undefined || this.idsFrom) return this;
    const known = this.views.get(pid);
    if (known) return known;
    const root = this.procPath(pid, 'root');
    let view: HostAccess = this;
    try {
      fs.readlinkSync(root);
      fs.statSync(root);
      view = new HostAccess({ hostRoot: root, procRoot: this.procRoot }, this);
    } catch { /* not readable: the host's view */ }
    this.views.set(pid, view);
    return view;
  }

  /** Releases the descriptors kept for resolving paths (they are reopened when needed). */
  close(): void {
    this.beneath?.close();
    for (const v of this.views.values()) if (v !== this) v.close();
  }

  /**
   * The agent-side path for a host path, with every symlink resolved inside the host root, for what cannot be
   * opened through a descriptor (a socket to connect to, a path to watch): reads go through `beneath`.
   * With host root `/` the kernel resolves symlinks itself. Throws ELOOP after 40 hops.
   */
  resolve(hostPath: string): string {
    const normal = path.posix.normalize('/' + hostPath);
    if (this.identityRoot) return normal;
    if (Date.now() - this.resolvedDirsSince > RESOLVED_DIRS_TTL_MS) {
      this.resolvedDirs.clear();
      this.resolvedDirsSince = Date.now();
    }
    return this.resolveNormal(normal);
  }

  /** Opens a host path for reading, never through a symlink out of the host root. */
  private openRead(hostPath: string): { fd: number; agentPath: string } {
    if (this.beneath) return this.beneath.open(hostPath, READ_FLAGS);
    const agentPath = this.resolve(hostPath);
    return { fd: fs.openSync(agentPath, READ_FLAGS), agentPath };
  }

  private statHost(hostPath: string): fs.Stats {
    return this.beneath ? this.beneath.stat(hostPath) : fs.statSync(this.resolve(hostPath));
  }

  /** Parent dirs come from the memo (resolved once per scan), so a new path costs one lstat of its last component. */
  private resolveNormal(normal: string): string {
    if (normal === '/') return this.hostRoot;
    const dir = path.posix.dirname(normal);
    let parent = this.resolvedDirs.get(dir);
    if (parent === undefined) {
      parent = this.resolveNormal(dir);
      this.resolvedDirs.set(dir, parent);
    }
    const candidate = path.join(parent, path.posix.basename(normal));
    let isLink = false;
    try { isLink = fs.lstatSync(candidate).isSymbolicLink(); } catch { /* missing: the open reports it */ }
    if (!isLink) return candidate;
    return this.resolveWalk(path.posix.join('/', path.relative(this.hostRoot, parent), path.posix.basename(normal)));
  }

  private resolveWalk(normal: string): string {
    const pending = normal.split('/').filter(Boolean);
    const resolved: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.') continue;
      if (part === '..') { resolved.pop(); continue; }
      const candidate = path.join(this.hostRoot, ...resolved, part);
      let st: fs.Stats | undefined;
      try { st = fs.lstatSync(candidate); } catch { st = undefined; }
      if (st?.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw Object.assign(new Error(`too many levels of symbolic links: ${normal}`), { code: 'ELOOP' });
        }
        const target = fs.readlinkSync(candidate);
        if (target.startsWith('/')) resolved.length = 0;
        pending.unshift(...target.split('/').filter(Boolean));
        continue;
      }
      resolved.push(part);
      // A missing component: nothing further can be a symlink, the final open reports ENOENT.
      if (!st) { resolved.push(...pending); break; }
    }
    return path.join(this.hostRoot, ...resolved);
  }

  /** Agent-side path under the proc root, e.g. procPath(123, 'status'). Not symlink-resolved: /proc links are read, not followed. */
  procPath(...parts: (string | number)[]): string {
    return path.join(this.procRoot, ...parts.map(String));
  }

  /** Reads a regular host file, at most maxBytes (EFBIG beyond). Never blocks on FIFOs or devices. */
  readFile(hostPath: string, maxBytes = DEFAULT_MAX_BYTES): ReadResult {
    try {
      const { fd, agentPath } = this.openRead(hostPath);
      try {
        return { ok: true, data: readFd(fd, agentPath, maxBytes, true) };
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      return { ok: false, error: toGatherError(hostPath, err) };
    }
  }

  readText(hostPath: string, maxBytes = DEFAULT_MAX_BYTES): TextResult {
    const r = this.readFile(hostPath, maxBytes);
    return r.ok ? { ok: true, text: r.data.toString('utf8') } : r;
  }

  /**
   * Reads a host file and derives a value from it, remembering the value across scans while the file's identity
   * (device, inode, size, mtime, ctime) stays the same: a rescan of unchanged PKI or manifests costs one fstat.
   * `derive` must return a value the caller does not mutate.
   */
  readDerived<T>(hostPath: string, maxBytes: number, derive: (data: Buffer) => T): { ok: true; value: T } | { ok: false; error: GatherError } {
    try {
      // stat first: an unchanged file costs that one call. The file stat'ed is inside the root (symlinks resolved
      // there), and its identity names its content, so a cached value can never be another file's.
      // A stat that fails is left to the open below, which reports the error.
      let seen: fs.BigIntStats | undefined;
      try { seen = this.beneath ? this.beneath.statBig(hostPath) : fs.statSync(this.resolve(hostPath), { bigint: true }); } catch { seen = undefined; }
      const seenKey = seen?.isFile() ? identityKey(this.hostRoot, hostPath, seen, maxBytes) : undefined;
      const hit = seenKey ? derivedCache.get(seenKey) : undefined;
      if (seenKey && hit && hit.derive === derive) {
        derivedCache.delete(seenKey); // re-insert: most recently used last
        derivedCache.set(seenKey, hit);
        return { ok: true, value: hit.value as T };
      }
      const { fd, agentPath } = this.openRead(hostPath);
      try {
        const st = fs.fstatSync(fd, { bigint: true });
        const key = identityKey(this.hostRoot, hostPath, st, maxBytes);
        const value = derive(readFd(fd, agentPath, maxBytes, true));
        derivedCache.delete(key);
        derivedCache.set(key, { derive, value });
        if (derivedCache.size > DERIVED_CACHE_ENTRIES) derivedCache.delete(derivedCache.keys().next().value!);
        return { ok: true, value };
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      return { ok: false, error: toGatherError(hostPath, err) };
    }
  }

  /** Reads a /proc file (size 0 in stat, so bounded by reading). Returns the error for a vanished pid. */
  readProc(parts: (string | number)[], maxBytes = 1024 * 1024): ReadResult {
    const p = this.procPath(...parts);
    try {
      return { ok: true, data: readBounded(p, maxBytes, false) };
    } catch (err) {
      return { ok: false, error: toGatherError(p, err) };
    }
  }

  /** The first bytes of a /proc file (a command line too long to read whole), or undefined. */
  readProcHead(parts: (string | number)[], bytes: number): Buffer | undefined {
    try {
      const fd = fs.openSync(this.procPath(...parts), fs.constants.O_RDONLY);
      try {
        const buf = Buffer.alloc(bytes);
        const n = fs.readSync(fd, buf, 0, bytes, 0);
        return buf.subarray(0, n);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return undefined;
    }
  }

  /** The effective uid a process runs as (/proc/PID/status `Uid:`, else the owner of /proc/PID), or undefined. */
  procOwner(pid: number): number | undefined {
    const status = this.readProcText([pid, 'status'], 64 * 1024);
    const uids = status === undefined ? undefined : /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    if (uids) return Number(uids[2]);
    try { return fs.statSync(this.procPath(pid)).uid; } catch { return undefined; }
  }

  readProcText(parts: (string | number)[], maxBytes?: number): string | undefined {
    const r = this.readProc(parts, maxBytes);
    return r.ok ? r.data.toString('utf8') : undefined;
  }

  readProcLink(parts: (string | number)[]): string | undefined {
    try { return fs.readlinkSync(this.procPath(...parts)); } catch { return undefined; }
  }

  listProc(parts: (string | number)[] = []): string[] {
    try { return fs.readdirSync(this.procPath(...parts)); } catch { return []; }
  }

  /** Numeric entries of the proc root, ascending. */
  listPids(): number[] {
    return this.listProc()
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Entries of a host directory (names only), or the error. */
  readDir(hostPath: string): { ok: true; entries: fs.Dirent[] } | { ok: false; error: GatherError } {
    try {
      const entries = this.beneath ? this.beneath.readDir(hostPath) : fs.readdirSync(this.resolve(hostPath), { withFileTypes: true });
      return { ok: true, entries };
    } catch (err) {
      return { ok: false, error: toGatherError(hostPath, err) };
    }
  }

  exists(hostPath: string): boolean {
    try { this.statHost(hostPath); return true; } catch { return false; }
  }

  /** stat(2) of a host path (symlinks followed inside the host root), owner names from the host's passwd/group. */
  stat(hostPath: string): FileFact {
    const p = path.posix.normalize('/' + hostPath);
    try {
      const st = this.statHost(p);
      return {
        path: p,
        exists: true,
        type: fileType(st),
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        user: this.userName(st.uid),
        group: this.groupName(st.gid),
        size: st.size,
      };
    } catch (err) {
      const error = toGatherError(p, err);
      return error.code === 'ENOENT' || error.code === 'ENOTDIR' ? { path: p, exists: false } : { path: p, exists: false, error };
    }
  }

  /**
   * Every entry below a host dir (the dir itself first), depth-first, without following symlinked dirs.
   * Bounded by maxEntries so a huge tree cannot stall a scan.
   */
  walk(hostDir: string, maxEntries = 10_000): FileFact[] {
    const out: FileFact[] = [];
    const root = this.stat(hostDir);
    if (!root.exists) return root.error ? [root] : [];
    out.push(root);
    const stack = root.type === 'dir' ? [root.path] : [];
    while (stack.length > 0 && out.length < maxEntries) {
      const dir = stack.pop()!;
      const listing = this.readDir(dir);
      if (!listing.ok) continue;
      for (const entry of listing.entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const child = path.posix.join(dir, entry.name);
        const fact = this.stat(child);
        if (!fact.exists && !fact.error) continue; // vanished between readdir and stat
        out.push(fact);
        if (entry.isDirectory()) stack.push(child);
        if (out.length >= maxEntries) break;
      }
    }
    return out;
  }

  userName(uid: number): string {
    if (this.idsFrom) return this.idsFrom.userName(uid);
    this.users ??= this.loadIds('/etc/passwd');
    return this.users.get(uid) ?? String(uid);
  }

  groupName(gid: number): string {
    if (this.idsFrom) return this.idsFrom.groupName(gid);
    this.groups ??= this.loadIds('/etc/group');
    return this.groups.get(gid) ?? String(gid);
  }

  private loadIds(file: string): Map<number, string> {
    const ids = new Map<number, string>();
    const r = this.readText(file, 8 * 1024 * 1024);
    if (!r.ok) return ids;
    for (const line of r.text.split('\n')) {
      const [name, , id] = line.split(':');
      if (!name || id === undefined || !/^\d+$/.test(id)) continue;
      if (!ids.has(Number(id))) ids.set(Number(id), name);
    }
    return ids;
  }
}

const DERIVED_CACHE_ENTRIES = 4096;

function identityKey(root: string, hostPath: string, st: fs.BigIntStats, maxBytes: number): string {
  return `${root}|${hostPath}|${st.dev}|${st.ino}|${st.size}|${st.mtimeNs}|${st.ctimeNs}|${maxBytes}`;
}
const derivedCache = new Map<string, { derive: unknown; value: unknown }>();

function readBounded(p: string, maxBytes: number, regularOnly: boolean): Buffer {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    return readFd(fd, p, maxBytes, regularOnly);
  } finally {
    fs.closeSync(fd);
  }
}

function readFd(fd: number, p: string, maxBytes: number, regularOnly: boolean): Buffer {
  // /proc files report size 0 and are never FIFOs: skip the fstat there (a scan reads thousands of them).
  if (regularOnly) {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      throw Object.assign(new Error(`not a regular file: ${p}`), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
    }
    if (st.size > maxBytes) {
      throw Object.assign(new Error(`file is ${st.size} bytes, over the ${maxBytes}-byte bound`), { code: 'EFBIG' });
    }
  }
  // One scratch buffer for every read (a scan reads thousands of small /proc files); each read is copied out.
  const chunks: Buffer[] = [];
  let total = 0;
  const limit = Math.min(maxBytes + 1, SCRATCH.length);
  for (;;) {
    const n = fs.readSync(fd, SCRATCH, 0, limit, null);
    if (n <= 0) break;
    total += n;
    if (total > maxBytes) {
      throw Object.assign(new Error(`file is over the ${maxBytes}-byte bound`), { code: 'EFBIG' });
    }
    chunks.push(Buffer.from(SCRATCH.subarray(0, n)));
    // A /proc (seq_file) read returns less than asked only at the end; asking again to hear "0" is not free:
    // each read of /proc/net/tcp walks the kernel's whole TCP hash table (~0.7 ms with 2^18 buckets).
    if (!regularOnly && n < limit) break;
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

const SCRATCH = Buffer.allocUnsafe(64 * 1024);
