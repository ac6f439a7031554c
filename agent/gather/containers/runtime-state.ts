// Containers as the runtimes leave them on disk: containerd's v2 task bundles (config.json + init.pid)
// and CRI-O's userdata dirs (config.json + pidfile). Read through HostAccess, bounded.
import * as path from 'node:path';
import type { HostAccess } from '../host.js';
import type { GatherError } from '../../facts/snapshot.js';
import { parseOciSpec, type ParsedSpec } from './oci-spec.js';
import { jsonErrorSummary } from '../yaml.js';
import type { RuntimeName } from '../../facts/containers.js';

/** Kubernetes caps all annotations of an object at 256 KiB; a spec many times that is hostile or broken. */
const MAX_SPEC_BYTES = 2 * 1024 * 1024;

export interface StateEntry {
  id: string;
  runtime: RuntimeName;
  bundle: string;
  specPath: string;
  spec?: ParsedSpec;
  pid?: number;
  errors: GatherError[];
}

const ID = /^[0-9a-zA-Z][0-9a-zA-Z_.-]{0,127}$/;

function readPidFile(host: HostAccess, file: string): { pid?: number; error?: GatherError } {
  const r = host.readText(file, 64);
  if (!r.ok) return { error: r.error };
  const t = r.text.trim();
  if (!/^\d{1,10}$/.test(t) || Number(t) < 1) return { error: { path: file, code: 'EINVAL', message: 'not a pid' } };
  return { pid: Number(t) };
}

function readSpec(host: HostAccess, file: string): { spec?: ParsedSpec; error?: GatherError } {
  // Parsed once per spec file while it is unchanged (a spec never changes for a running container) and shared by
  // every scan: frozen, so whatever merges it with CRI facts builds new objects (a mutation would throw).
  const r = host.readDerived(file, MAX_SPEC_BYTES, parseSpecBytes);
  if (!r.ok) return { error: r.error };
  if ('invalid' in r.value) return { error: { path: file, code: 'EINVAL', message: r.value.invalid } };
  return { spec: r.value.spec };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function parseSpecBytes(data: Buffer): { spec: ParsedSpec } | { invalid: string } {
  let raw: unknown;
  try { raw = JSON.parse(data.toString('utf8')); } catch (err) {
    return { invalid: `not JSON: ${jsonErrorSummary(err)}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { invalid: 'not a JSON object' };
  return { spec: deepFreeze(parseOciSpec(raw)) };
}

/** Every bundle in `dir`, or only those named in `only` (a targeted re-gather: no listing). */
function readBundles(
  host: HostAccess, dir: string, runtime: RuntimeName, specRel: string, pidRel: string, only?: ReadonlySet<string>,
): { entries: StateEntry[]; error?: GatherError } {
  let names: string[];
  if (only) {
    names = [...only].filter((id) => ID.test(id) && host.stat(path.posix.join(dir, id)).type === 'dir');
  } else {
    const listing = host.readDir(dir);
    if (!listing.ok) return { entries: [], error: listing.error };
    names = listing.entries.filter((d) => d.isDirectory() && ID.test(d.name)).map((d) => d.name);
  }
  const entries: StateEntry[] = [];
  for (const name of names) {
    const bundle = path.posix.join(dir, name);
    const specPath = path.posix.join(bundle, specRel);
    const entry: StateEntry = { id: name, runtime, bundle, specPath, errors: [] };
    const s = readSpec(host, specPath);
    if (s.error) entry.errors.push(s.error); else entry.spec = s.spec;
    const p = readPidFile(host, path.posix.join(bundle, pidRel));
    // A created-but-not-started task has no pid file yet: not an error.
    if (p.error && p.error.code !== 'ENOENT') entry.errors.push(p.error);
    entry.pid = p.pid;
    entries.push(entry);
  }
  return { entries };
}

/** `<state>/io.containerd.runtime.v2.task/k8s.io/<id>/{config.json,init.pid}` */
function containerdTaskDir(stateDir: string): string {
  return path.posix.join(stateDir, 'io.containerd.runtime.v2.task', 'k8s.io');
}

export function readContainerdState(host: HostAccess, stateDir: string, only?: ReadonlySet<string>) {
  return readBundles(host, containerdTaskDir(stateDir), 'containerd', 'config.json', 'init.pid', only);
}

/** `<overlay-containers>/<id>/userdata/{config.json,pidfile}` */
export function readCrioState(host: HostAccess, overlayContainersDir: string, only?: ReadonlySet<string>) {
  return readBundles(host, overlayContainersDir, 'crio', 'userdata/config.json', 'userdata/pidfile', only);
}
