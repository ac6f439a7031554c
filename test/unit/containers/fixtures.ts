// Fixture pods as containerd leaves them: OCI specs under <state>/io.containerd.runtime.v2.task/k8s.io/<id>/
// and /proc entries for their processes (status, ns links, cgroup), plus a host containerd process.
import type { FileSpec, HostSpec, ProcSpec } from '../../fixtures/build.js';
import { RUNTIME_DEFAULT_CAPABILITIES } from '../../../agent/facts/containers.js';

export const STATE = '/run/containerd';
const HOST_NS: Record<string, string> = {
  pid: 'pid:[4026531836]', ipc: 'ipc:[4026531839]', net: 'net:[4026531840]', uts: 'uts:[4026531838]',
  mnt: 'mnt:[4026531841]', user: 'user:[4026531837]', cgroup: 'cgroup:[4026531835]',
};
export const CONTAINERD_PID = 50;

export interface FakeContainer {
  id: string;
  type?: 'container' | 'sandbox';
  namespace?: string;
  pod?: string;
  name?: string;
  sandboxId?: string;
  image?: string;
  pid?: number;
  /** The pid file names a process that has no /proc entry (it exited). */
  vanished?: boolean;
  /** OCI capability names (bare). */
  caps?: string[];
  privileged?: boolean;
  noNewPrivileges?: boolean;
  seccomp?: boolean;
  uid?: number;
  readonlyRoot?: boolean;
  /** OCI namespace types the container does NOT get its own of. */
  hostNamespaces?: ('pid' | 'ipc' | 'network' | 'uts')[];
  mounts?: { source: string; destination: string; ro?: boolean }[];
  env?: string[];
  sysctl?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Kernel view overrides (default: matches the spec). */
  kernel?: { capEff?: string[]; nnp?: boolean; seccomp?: number; uid?: number; sharedWithHost?: string[] };
  /** Raw config.json text (replaces the built spec). */
  rawSpec?: string | FileSpec;
}

const CAP_BITS: Record<string, number> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8,
  LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13, IPC_LOCK: 14, IPC_OWNER: 15,
  SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19, SYS_PACCT: 20, SYS_ADMIN: 21, SYS_BOOT: 22,
  SYS_NICE: 23, SYS_RESOURCE: 24, SYS_TIME: 25, SYS_TTY_CONFIG: 26, MKNOD: 27, LEASE: 28, AUDIT_WRITE: 29,
  AUDIT_CONTROL: 30, SETFCAP: 31, MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34, WAKE_ALARM: 35, BLOCK_SUSPEND: 36,
  AUDIT_READ: 37, PERFMON: 38, BPF: 39, CHECKPOINT_RESTORE: 40,
};
const ALL_CAPS = Object.keys(CAP_BITS);

function capMask(caps: string[]): string {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(CAP_BITS[c]);
  return mask.toString(16).padStart(16, '0');
}

function statusText(k: { capEff: string[]; capBnd?: string[]; nnp?: boolean; seccomp?: number; uid?: number }): string {
  const uid = k.uid ?? 0;
  return [
    'Name:\tsleep', 'State:\tS (sleeping)', `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`, 'Gid:\t0\t0\t0\t0',
    `CapInh:\t0000000000000000`, `CapPrm:\t${capMask(k.capEff)}`, `CapEff:\t${capMask(k.capEff)}`,
    `CapBnd:\t${capMask(k.capBnd ?? k.capEff)}`, 'CapAmb:\t0000000000000000',
    `NoNewPrivs:\t${k.nnp ? 1 : 0}`, `Seccomp:\t${k.seccomp ?? 0}`, '',
  ].join('\n');
}

const hex = (n: number, len = 64): string => n.toString(16).padStart(len, '0');
export const containerId = (n: number): string => hex(0xc0000 + n);
export const sandboxId = (n: number): string => hex(0x5a0000 + n);

export function ociSpec(c: FakeContainer): object {
  const type = c.type ?? 'container';
  const caps = c.privileged ? ALL_CAPS.filter((x) => x !== 'SYS_RESOURCE') : c.caps ?? [...RUNTIME_DEFAULT_CAPABILITIES];
  const host = new Set(c.hostNamespaces ?? []);
  const sandboxPid = 1000;
  const namespaces = ['pid', 'ipc', 'uts', 'mount', 'network']
    .filter((t) => !host.has(t as never))
    .map((t) => (type === 'container' && t !== 'mount' && t !== 'pid' ? { type: t, path: `/proc/${sandboxPid}/ns/${t === 'network' ? 'net' : t}` } : { type: t }));
  const annotations: Record<string, string> = {
    'io.kubernetes.cri.container-type': type,
    'io.kubernetes.cri.sandbox-id': c.sandboxId ?? c.id,
    'io.kubernetes.cri.sandbox-name': c.pod ?? 'pod',
    'io.kubernetes.cri.sandbox-namespace': c.namespace ?? 'default',
    'io.kubernetes.cri.sandbox-uid': '7d8f1c2a-0000-4000-8000-000000000001',
    ...(type === 'container' ? { 'io.kubernetes.cri.container-name': c.name ?? 'app', 'io.kubernetes.cri.image-name': c.image ?? 'registry.example/app:1' } : {}),
    ...c.annotations,
  };
  const sb = c.sandboxId ?? c.id;
  return {
    ociVersion: '1.0.2-dev',
    process: {
      user: { uid: c.uid ?? 0, gid: 0 },
      args: ['/bin/sleep', '3600'],
      env: c.env ?? ['PATH=/bin', 'HOSTNAME=x'],
      cwd: '/',
      capabilities: { bounding: caps.map((x) => `CAP_${x}`), effective: caps.map((x) => `CAP_${x}`), permitted: caps.map((x) => `CAP_${x}`) },
      noNewPrivileges: c.noNewPrivileges ?? false,
    },
    root: { path: 'rootfs', readonly: c.readonlyRoot ?? false },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] },
      { destination: '/etc/hosts', type: 'bind', source: `/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${sb}/hosts`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/dev/shm', type: 'bind', source: `${STATE}/io.containerd.grpc.v1.cri/sandboxes/${sb}/shm`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/var/run/secrets/kubernetes.io/serviceaccount', type: 'bind', source: '/var/lib/kubelet/pods/7d8f1c2a-0000-4000-8000-000000000001/volumes/kubernetes.io~projected/kube-api-access-x', options: ['rbind', 'rprivate', 'ro'] },
      ...(c.mounts ?? []).map((m) => ({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'rprivate', m.ro ? 'ro' : 'rw'] })),
    ],
    annotations,
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      cgroupsPath: `/k8s.io/${c.id}`,
      namespaces,
      ...(c.seccomp ? { seccomp: { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] } } : {}),
      ...(c.privileged ? {} : { maskedPaths: ['/proc/kcore', '/proc/keys'], readonlyPaths: ['/proc/sys'] }),
      ...(c.sysctl ? { sysctl: c.sysctl } : {}),
    },
  };
}

const sandboxNet = new Map<string, string>();
let nsCounter = 4026532000;

export function containerProc(c: FakeContainer): ProcSpec | undefined {
  if (c.pid === undefined || c.vanished) return undefined;
  const caps = c.kernel?.capEff ?? (c.privileged ? ALL_CAPS.filter((x) => x !== 'SYS_RESOURCE') : c.caps ?? [...RUNTIME_DEFAULT_CAPABILITIES]);
  const shared = new Set(c.kernel?.sharedWithHost ?? (c.hostNamespaces ?? []).flatMap((n) => (n === 'network' ? ['net', 'uts'] : [n])));
  shared.add('user');
  shared.add('cgroup');
  const ns: Record<string, string> = {};
  for (const [name, link] of Object.entries(HOST_NS)) ns[name] = shared.has(name) ? link : `${name}:[${nsCounter++}]`;
  // As in a real pod, workload containers join their sandbox's network namespace.
  const podNet = c.sandboxId !== undefined ? sandboxNet.get(c.sandboxId) : undefined;
  if (podNet && !shared.has('net')) ns.net = podNet;
  if (c.type === 'sandbox') sandboxNet.set(c.id, ns.net);
  return {
    pid: c.pid,
    argv: ['/bin/sleep', '3600'],
    comm: 'sleep',
    status: statusText({ capEff: caps, nnp: c.kernel?.nnp ?? c.noNewPrivileges, seccomp: c.kernel?.seccomp ?? (c.seccomp ? 2 : 0), uid: c.kernel?.uid ?? c.uid }),
    ns,
    files: { cgroup: `0::/k8s.io/${c.id}\n`, 'attr/current': 'unconfined\n' },
  };
}

export const containerdProc: ProcSpec = {
  pid: CONTAINERD_PID, argv: ['/usr/bin/containerd'], comm: 'containerd', status: statusText({ capEff: ALL_CAPS }), ns: HOST_NS,
};

/** A host tree with containerd's state dir holding these containers, and their processes. */
export function containerdHost(containers: FakeContainer[], extra: HostSpec = {}): HostSpec {
  const files: Record<string, FileSpec | string> = {};
  const procs: ProcSpec[] = [containerdProc];
  for (const c of containers) {
    const dir = `${STATE}/io.containerd.runtime.v2.task/k8s.io/${c.id}`;
    files[`${dir}/config.json`] = c.rawSpec ?? JSON.stringify(ociSpec(c));
    if (c.pid !== undefined) files[`${dir}/init.pid`] = String(c.pid);
    const p = containerProc(c);
    if (p) procs.push(p);
  }
  return { ...extra, files: { ...files, ...extra.files }, procs: [...procs, ...(extra.procs ?? [])] };
}
