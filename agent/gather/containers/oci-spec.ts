// Reads an OCI runtime spec (config.json as containerd and CRI-O write it) into who the container is and
// what it declared. The spec is hostile input: every field is type-checked, strings and lists are bounded,
// and env values are dropped here, before anything else sees them.
import { isRecord, type JsonRecord } from '../../../common/json.js';
import { normalizeCapability, CAPABILITY_NAMES } from './capabilities.js';
import { mountOrigin } from './mount-origin.js';
import type { DeclaredFact, HostNamespace, MountFact, SeccompDeclared } from '../../facts/containers.js';

export interface ContainerIdentity {
  runtime?: 'containerd' | 'crio';
  type?: 'container' | 'sandbox';
  namespace?: string;
  pod?: string;
  podUid?: string;
  container?: string;
  image?: string;
  sandboxId?: string;
}

const MAX_STRING = 1024;
const MAX_LIST = 4096;

type Obj = JsonRecord;
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v.slice(0, MAX_STRING) : undefined;
const strList = (v: unknown): string[] =>
  Array.isArray(v) ? v.slice(0, MAX_LIST).filter((x): x is string => typeof x === 'string').map((x) => x.slice(0, MAX_STRING)) : [];
const obj = (v: unknown): Obj => (isRecord(v) ? v : {});

/** Pod and container names from the CRI annotations containerd (`io.kubernetes.cri.*`) and CRI-O write. */
export function identityFromAnnotations(raw: unknown): ContainerIdentity {
  const a = obj(raw);
  const get = (k: string): string | undefined => str(a[k]);
  const cdType = get('io.kubernetes.cri.container-type');
  if (cdType) {
    return {
      runtime: 'containerd',
      type: cdType === 'sandbox' ? 'sandbox' : 'container',
      namespace: get('io.kubernetes.cri.sandbox-namespace'),
      pod: get('io.kubernetes.cri.sandbox-name'),
      podUid: get('io.kubernetes.cri.sandbox-uid'),
      container: cdType === 'sandbox' ? undefined : get('io.kubernetes.cri.container-name'),
      image: get('io.kubernetes.cri.image-name'),
      sandboxId: get('io.kubernetes.cri.sandbox-id'),
    };
  }
  const crioType = get('io.kubernetes.cri-o.ContainerType');
  if (crioType) {
    const labels = parseJsonObject(get('io.kubernetes.cri-o.Labels'));
    const label = (k: string): string | undefined => get(k) ?? str(labels[k]);
    return {
      runtime: 'crio',
      type: crioType === 'sandbox' ? 'sandbox' : 'container',
      namespace: label('io.kubernetes.pod.namespace'),
      pod: label('io.kubernetes.pod.name') ?? get('io.kubernetes.cri-o.KubeName'),
      podUid: label('io.kubernetes.pod.uid'),
      container: crioType === 'sandbox' ? undefined : label('io.kubernetes.container.name'),
      image: get('io.kubernetes.cri-o.ImageName') ?? get('io.kubernetes.cri-o.Image'),
      sandboxId: get('io.kubernetes.cri-o.SandboxID'),
    };
  }
  return {};
}

function parseJsonObject(text: string | undefined): Obj {
  if (!text) return {};
  try { return obj(JSON.parse(text)); } catch { return {}; }
}

const OCI_TO_HOST_NS: Record<string, HostNamespace> = { pid: 'pid', ipc: 'ipc', network: 'network', uts: 'uts' };

/**
 * Namespaces absent from linux.namespaces are the host's. Those with a `path` join another process's
 * (for a pod's containers: the sandbox's), so they are the host's exactly when the sandbox's are.
 */
function namespaces(linux: Obj): { host: HostNamespace[]; joined: HostNamespace[] } {
  const entries = Array.isArray(linux.namespaces) ? linux.namespaces.slice(0, 64).map(obj) : [];
  const listed = new Set(entries.map((n) => str(n.type)).filter(Boolean));
  const joined = new Set(entries.filter((n) => str(n.path)).map((n) => str(n.type)));
  const types = Object.keys(OCI_TO_HOST_NS);
  return {
    host: types.filter((t) => !listed.has(t)).map((t) => OCI_TO_HOST_NS[t]),
    joined: types.filter((t) => joined.has(t)).map((t) => OCI_TO_HOST_NS[t]),
  };
}

function seccomp(linux: Obj): SeccompDeclared {
  if (!isRecord(linux.seccomp)) return 'unconfined';
  const s = linux.seccomp;
  const action = str(s.defaultAction) ?? '';
  const rules = Array.isArray(s.syscalls) ? s.syscalls.length : 0;
  // A profile that allows everything and lists nothing filters nothing.
  if (/^SCMP_ACT_(ALLOW|LOG)$/.test(action) && rules === 0) return 'unconfined';
  return 'profile';
}

/** The runtime always fills in user and role (system_u:system_r); only type and level say what the pod asked. */
function seLinuxLabel(label: string | undefined): DeclaredFact['seLinux'] {
  if (!label) return undefined;
  const [, , type, ...level] = label.split(':');
  return { type: type || undefined, level: level.join(':') || undefined };
}

function mounts(raw: unknown): MountFact[] {
  if (!Array.isArray(raw)) return [];
  const out: MountFact[] = [];
  for (const m of raw.slice(0, MAX_LIST)) {
    if (!isRecord(m)) continue;
    const destination = str(m.destination);
    if (!destination) continue;
    const source = str(m.source) ?? '';
    const type = str(m.type);
    const options = strList(m.options);
    out.push({ source, destination, readOnly: options.includes('ro'), type, origin: mountOrigin(source, type, options) });
  }
  return out;
}

/** With host IPC the runtime binds the host's /dev/shm: part of hostIPC, not a hostPath volume. */
export function markHostShm(list: MountFact[]): void {
  for (const m of list) if (m.source === '/dev/shm' && m.destination === '/dev/shm') m.origin = 'runtime';
}

/** containerd and CRI-O grant a privileged container every capability and lift the /proc and /sys masks. */
function looksPrivileged(bounding: string[], linux: Obj): boolean {
  const caps = new Set(bounding);
  const allCaps = CAPABILITY_NAMES.slice(0, 38).every((c) => caps.has(c) || c === 'SYS_RESOURCE' || c === 'BLOCK_SUSPEND');
  const masked = strList(linux.maskedPaths).length + strList(linux.readonlyPaths).length;
  return allCaps && masked === 0;
}

export interface ParsedSpec {
  identity: ContainerIdentity;
  declared: DeclaredFact;
  /** Namespaces joined by path (a pod container's: its sandbox's). */
  joinedNamespaces: HostNamespace[];
}

export function parseOciSpec(raw: unknown): ParsedSpec {
  const spec = obj(raw);
  const process = obj(spec.process);
  const linux = obj(spec.linux);
  const caps = obj(process.capabilities);
  const bounding = strList(caps.bounding).map(normalizeCapability);
  const effective = strList(caps.effective).map(normalizeCapability);
  const privileged = looksPrivileged(bounding, linux);
  const hasMasks = Array.isArray(linux.maskedPaths);
  const uid = obj(process.user).uid;
  const ns = namespaces(linux);
  const mountFacts = mounts(spec.mounts);
  if (ns.host.includes('ipc')) markHostShm(mountFacts);
  const sysctls: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(linux.sysctl)).slice(0, MAX_LIST)) {
    if (typeof v === 'string') sysctls[k.slice(0, MAX_STRING)] = v.slice(0, MAX_STRING);
  }
  const declared: DeclaredFact = {
    sources: ['oci'],
    privileged,
    capabilities: { effective, bounding },
    noNewPrivileges: process.noNewPrivileges === true,
    seccomp: seccomp(linux),
    appArmorProfile: str(process.apparmorProfile),
    seLinux: seLinuxLabel(str(process.selinuxLabel)),
    readOnlyRootFilesystem: obj(spec.root).readonly === true,
    uid: typeof uid === 'number' && Number.isInteger(uid) ? uid : undefined,
    procMount: privileged || !hasMasks ? undefined : strList(linux.maskedPaths).length === 0 ? 'Unmasked' : 'Default',
    sysctls,
    hostNamespaces: ns.host,
    mounts: mountFacts,
    env: strList(process.env).map((e) => ({ name: e.split('=', 1)[0] })).filter((e) => e.name.length > 0),
  };
  return { identity: identityFromAnnotations(spec.annotations), declared, joinedNamespaces: ns.joined };
}
