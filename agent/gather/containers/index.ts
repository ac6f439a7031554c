// gatherContainers: every container the node's runtimes run, from their state dirs and (when it answers)
// the CRI socket, merged per container id, then checked against the kernel's view of its first process.
import type { HostAccess } from '../host.js';
import type { GatherOptions } from '../options.js';
import type { ComponentFact, ComponentName, GatherError } from '../../facts/snapshot.js';
import type { ContainerFact, ContainersFact, DeclaredFact, HostNamespace } from '../../facts/containers.js';
import { readContainerdState, readCrioState, type StateEntry } from './runtime-state.js';
import { gatherFromCri, type CriContainer, type CriResult, type CriSandbox } from './cri.js';
import { markHostShm, parseOciSpec, type ContainerIdentity } from './oci-spec.js';
import { findHostReference, readKernelFact } from './kernel.js';

const DEFAULT_CONTAINERD_STATE_DIRS = ['/run/containerd', '/run/k3s/containerd'];
const DEFAULT_CRIO_STATE_DIRS = ['/run/containers/storage/overlay-containers'];
const DEFAULT_CRI_SOCKETS = [
  '/run/containerd/containerd.sock',
  '/run/k3s/containerd/containerd.sock',
  '/var/run/crio/crio.sock',
];

const HOST_NAMESPACES: readonly HostNamespace[] = ['pid', 'ipc', 'network', 'uts'];

/** Explicit option, else the first default that exists under the host root. */
function pick(host: HostAccess, explicit: string | undefined, defaults: string[]): string | undefined {
  if (explicit) return explicit;
  return defaults.find((p) => host.exists(p));
}

interface Draft {
  id: string;
  runtime: ContainerFact['runtime'];
  identity: ContainerIdentity;
  pid?: number;
  oci?: DeclaredFact;
  specPath?: string;
  joined: HostNamespace[];
  cri?: CriContainer['config'];
  errors: GatherError[];
}

interface PodLevel {
  sysctls: Record<string, string>;
  hostPorts?: number[];
  hostNamespaces?: HostNamespace[];
}

function fill(into: ContainerIdentity, from: ContainerIdentity): ContainerIdentity {
  const out: ContainerIdentity = { ...into };
  for (const [k, v] of Object.entries(from) as [keyof ContainerIdentity, string][]) {
    if (out[k] === undefined && v !== undefined) (out as Record<string, string>)[k] = v;
  }
  return out;
}

function mergeDeclared(d: Draft, pod: PodLevel | undefined): DeclaredFact | undefined {
  const { oci, cri } = d;
  if (!oci && !cri) return undefined;
  const base: DeclaredFact = oci
    ? { ...oci, capabilities: { ...oci.capabilities }, sysctls: { ...oci.sysctls }, sources: [...oci.sources] }
    : { ...cri!, sources: [], sysctls: {} };
  if (cri) {
    if (oci) base.sources.push('cri');
    else base.sources = ['cri'];
    base.privileged = cri.privileged;
    base.capabilities.added = cri.capabilities.added;
    base.capabilities.dropped = cri.capabilities.dropped;
    base.runAsUser = cri.runAsUser;
    if (cri.seLinux) base.seLinux = cri.seLinux;
    // The OCI spec says whether a filter is applied; the CRI config says which kind it is.
    if (!oci || (oci.seccomp === 'profile' && cri.seccomp !== 'unconfined' && cri.seccomp !== 'unset')) {
      base.seccomp = cri.seccomp;
      base.seccompLocalhostRef = cri.seccompLocalhostRef;
    }
    base.appArmorProfile ??= cri.appArmorProfile;
    base.procMount ??= cri.procMount;
  }
  const host = new Set(base.hostNamespaces);
  for (const ns of cri?.hostNamespaces ?? []) host.add(ns);
  if (pod) {
    base.sysctls = { ...pod.sysctls, ...base.sysctls };
    if (pod.hostPorts) base.hostPorts = pod.hostPorts;
    for (const ns of d.joined) if (pod.hostNamespaces?.includes(ns)) host.add(ns);
  }
  base.hostNamespaces = HOST_NAMESPACES.filter((ns) => host.has(ns));
  if (host.has('ipc')) {
    base.mounts = base.mounts.map((m) => ({ ...m }));
    markHostShm(base.mounts);
  }
  return base;
}

function draftFromState(e: StateEntry): Draft {
  return {
    id: e.id, runtime: e.spec?.identity.runtime ?? e.runtime, identity: e.spec?.identity ?? {},
    pid: e.pid, oci: e.spec?.declared, specPath: e.specPath, joined: e.spec?.joinedNamespaces ?? [], errors: [...e.errors],
  };
}

function draftFromCri(c: CriContainer | CriSandbox, runtime: ContainerFact['runtime']): Draft {
  const spec = c.runtimeSpec !== undefined && typeof c.runtimeSpec === 'object' ? parseOciSpec(c.runtimeSpec) : undefined;
  return {
    id: c.id, runtime: spec?.identity.runtime ?? runtime, identity: fill(spec?.identity ?? {}, c.identity),
    pid: c.pid, oci: spec?.declared, joined: spec?.joinedNamespaces ?? [], errors: [],
  };
}

/** A pid file can outlive its container and the pid be reused: the process's cgroup must name the container. */
function pidBelongsTo(host: HostAccess, pid: number, id: string): boolean | undefined {
  const cgroup = host.readProcText([pid, 'cgroup'], 16 * 1024);
  if (cgroup === undefined) return undefined;
  return cgroup.includes(id);
}

/**
 * Every container of the node's runtimes; with `only`, just those ids and their pods' sandboxes (whose specs hold
 * the pod-level facts): a targeted re-gather when the runtime says a container started, reading no other bundle.
 */
export async function gatherContainers(
  host: HostAccess,
  opts: GatherOptions,
  components: Partial<Record<ComponentName, ComponentFact>>,
  only?: ReadonlySet<string>,
): Promise<ContainersFact> {
  const fact: ContainersFact = { sources: [], searched: [], items: [], errors: [] };
  const drafts = new Map<string, Draft>();
  const wanted = only ? new Set(only) : undefined;
  /** State entries, and with `only` also those of the sandboxes they name. */
  const readState = (read: (ids?: ReadonlySet<string>) => { entries: StateEntry[]; error?: GatherError }) => {
    const first = read(wanted);
    if (!wanted) return first;
    const sandboxes = new Set(first.entries.map((e) => e.spec?.identity.sandboxId).filter((id): id is string => !!id && !wanted.has(id)));
    for (const id of sandboxes) wanted.add(id);
    return sandboxes.size > 0 ? { ...first, entries: [...first.entries, ...read(sandboxes).entries] } : first;
  };

  const containerd = pick(host, opts.containerdStateDir, DEFAULT_CONTAINERD_STATE_DIRS);
  fact.searched.push(...(opts.containerdStateDir ? [opts.containerdStateDir] : DEFAULT_CONTAINERD_STATE_DIRS));
  if (containerd && host.exists(containerd)) {
    fact.sources.push({ runtime: 'containerd', path: containerd });
    const r = readState((ids) => readContainerdState(host, containerd, ids));
    // No k8s.io task dir just means no pod runs yet.
    if (r.error && r.error.code !== 'ENOENT') fact.errors.push(r.error);
    for (const e of r.entries) drafts.set(e.id, draftFromState(e));
  } else if (opts.containerdStateDir) {
    fact.errors.push({ path: opts.containerdStateDir, code: 'ENOENT', message: 'containerd state dir not found' });
  }

  const crio = pick(host, opts.crioStateDir, DEFAULT_CRIO_STATE_DIRS);
  fact.searched.push(...(opts.crioStateDir ? [opts.crioStateDir] : DEFAULT_CRIO_STATE_DIRS));
  if (crio && host.exists(crio)) {
    fact.sources.push({ runtime: 'crio', path: crio });
    const r = readState((ids) => readCrioState(host, crio, ids));
    if (r.error) fact.errors.push(r.error);
    for (const e of r.entries) if (!drafts.has(e.id)) drafts.set(e.id, draftFromState(e));
  } else if (opts.crioStateDir) {
    fact.errors.push({ path: opts.crioStateDir, code: 'ENOENT', message: 'CRI-O state dir not found' });
  }

  const socket = pick(host, opts.criSocket, DEFAULT_CRI_SOCKETS);
  fact.searched.push(...(opts.criSocket ? [opts.criSocket] : DEFAULT_CRI_SOCKETS));
  let cri: CriResult | undefined;
  if (socket && !host.exists(socket)) {
    fact.errors.push({ path: socket, code: 'ENOENT', message: 'CRI socket not found' });
  } else if (socket) {
    let resolved: string | undefined;
    try { resolved = host.resolve(socket); } catch (err) {
      fact.errors.push({ path: socket, code: 'ELOOP', message: (err as Error).message });
    }
    if (resolved) {
      cri = await gatherFromCri(resolved, socket, undefined, undefined, wanted).catch((err: unknown) => ({
        containers: [], sandboxes: [],
        errors: [{ path: socket, code: 'EIO', message: `CRI: ${(err as Error)?.message ?? String(err)}`.slice(0, 500) }],
      }));
      fact.errors.push(...cri.errors);
      if (cri.errors.length === 0 || cri.containers.length + cri.sandboxes.length > 0) {
        fact.sources.push({ runtime: 'cri', path: socket });
      }
    }
  }
  const criRuntime: ContainerFact['runtime'] = socket?.includes('crio') ? 'crio' : 'containerd';
  const podLevel = new Map<string, PodLevel>();
  for (const s of cri?.sandboxes ?? []) {
    const existing = drafts.get(s.id);
    if (existing) {
      existing.identity = fill(existing.identity, s.identity);
      existing.pid ??= s.pid;
    } else {
      drafts.set(s.id, draftFromCri(s, criRuntime));
    }
    if (s.config) podLevel.set(s.id, { sysctls: s.config.sysctls, hostPorts: s.config.hostPorts, hostNamespaces: s.config.hostNamespaces });
  }
  for (const c of cri?.containers ?? []) {
    const d = drafts.get(c.id) ?? draftFromCri(c, criRuntime);
    d.identity = fill(d.identity, c.identity);
    d.pid ??= c.pid;
    d.cri = c.config;
    drafts.set(c.id, d);
  }
  // Pod-level sysctls live on the sandbox's spec; host ports only in the CRI sandbox config.
  for (const d of drafts.values()) {
    if (d.identity.type !== 'sandbox' || !d.oci) continue;
    const known = podLevel.get(d.id);
    podLevel.set(d.id, {
      sysctls: { ...d.oci.sysctls, ...known?.sysctls },
      hostPorts: known?.hostPorts,
      hostNamespaces: [...new Set([...d.oci.hostNamespaces, ...known?.hostNamespaces ?? []])],
    });
  }

  const ref = drafts.size > 0 ? findHostReference(host, components) : undefined;
  if (ref) fact.hostReference = { pid: ref.pid, process: ref.process };
  for (const d of [...drafts.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const item: ContainerFact = {
      id: d.id,
      runtime: d.runtime,
      type: d.identity.type ?? 'container',
      namespace: d.identity.namespace,
      pod: d.identity.pod,
      podUid: d.identity.podUid,
      container: d.identity.container,
      image: d.identity.image,
      sandboxId: d.identity.sandboxId,
      pid: d.pid,
      specPath: d.specPath,
      declared: mergeDeclared(d, d.identity.type === 'sandbox' ? undefined : podLevel.get(d.identity.sandboxId ?? '')),
      errors: d.errors,
    };
    if (d.pid !== undefined) {
      if (pidBelongsTo(host, d.pid, d.id) === false) {
        item.errors.push({ path: host.procPath(d.pid, 'cgroup'), code: 'ESRCH', message: `pid ${d.pid} no longer belongs to container ${d.id}` });
        item.pid = undefined;
      } else if (item.type === 'container') {
        // Sandboxes are not judged: their pid is kept (pod network namespace), their kernel state is not read.
        const k = readKernelFact(host, d.pid, ref);
        item.kernel = k.kernel;
        item.errors.push(...k.errors);
      }
    }
    fact.items.push(item);
  }
  return fact;
}
