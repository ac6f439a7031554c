// Facts about running containers, from the runtime's own state (OCI spec, CRI) and from the kernel.
// Capability names are bare and upper-case (`SYS_ADMIN`, not `CAP_SYS_ADMIN`), as Kubernetes writes them.
import type { GatherError } from './file.js';

export type RuntimeName = 'containerd' | 'crio';
/** The namespaces Pod Security judges (hostNetwork, hostPID, hostIPC) plus UTS, which host network implies. */
export type HostNamespace = 'pid' | 'ipc' | 'network' | 'uts';
/** Names of the links under /proc/PID/ns. */
export type KernelNamespace = 'pid' | 'ipc' | 'net' | 'uts' | 'mnt' | 'user' | 'cgroup';
/** The namespaces compared with the host's; user and cgroup are left out: without user namespaces (and on cgroup v1) every container shares the host's. */
export const KERNEL_NAMESPACES: readonly KernelNamespace[] = ['pid', 'ipc', 'net', 'uts', 'mnt'];

/** The set containerd and CRI-O give a container that neither adds nor drops anything. */
export const RUNTIME_DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP',
  'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];


/**
 * Where a mount's source lives. `hostPath`: a host path outside the runtime's and the kubelet's own dirs
 * (what a hostPath volume looks like on the node); `volume`: a kubelet-managed volume dir (emptyDir,
 * configMap, secret, projected, CSI...); `runtime`: the runtime's own per-pod files (hosts, resolv.conf,
 * shm); `virtual`: proc, sysfs, tmpfs, devpts, mqueue, cgroup.
 */
export type MountOrigin = 'hostPath' | 'volume' | 'runtime' | 'virtual';

export interface MountFact {
  source: string;
  destination: string;
  readOnly: boolean;
  type?: string;
  origin: MountOrigin;
}

/** An environment variable: the name only; values never leave the gather stage. */
export interface EnvFact {
  name: string;
  /** Where a manifest takes the value from; absent for a literal value (and for every variable seen on a node). */
  from?: 'secret' | 'configMap' | 'field' | 'resource';
}

/** `profile`: a filter is set (RuntimeDefault or Localhost; an OCI spec does not say which). */
export type SeccompDeclared = 'unset' | 'unconfined' | 'runtime-default' | 'localhost' | 'profile';

/**
 * What the container declared. `sources` tells how literal each field is: a PodSpec and the CRI config
 * carry Kubernetes' own fields (capabilities add/drop, runAsUser, privileged); an OCI spec only carries
 * their result (capability sets, uid, masked paths), from which the rest is derived.
 */
export interface DeclaredFact {
  sources: ('oci' | 'cri' | 'podspec')[];
  privileged?: boolean;
  capabilities: {
    /** OCI process.capabilities sets. */
    effective?: string[];
    bounding?: string[];
    /** Kubernetes securityContext.capabilities (PodSpec or CRI config). */
    added?: string[];
    dropped?: string[];
  };
  /** OCI process.noNewPrivileges, i.e. allowPrivilegeEscalation: false. */
  noNewPrivileges?: boolean;
  /** allowPrivilegeEscalation as written in a PodSpec (undefined when unset). */
  allowPrivilegeEscalation?: boolean;
  seccomp?: SeccompDeclared;
  seccompLocalhostRef?: string;
  /** `unconfined`, `runtime/default`, `localhost/<name>`, or the raw profile name from an OCI spec. */
  appArmorProfile?: string;
  seLinux?: { user?: string; role?: string; type?: string; level?: string };
  readOnlyRootFilesystem?: boolean;
  /** runAsUser as set explicitly (CRI config, PodSpec); undefined when not set. */
  runAsUser?: number;
  /** runAsNonRoot (PodSpec only: the runtime never sees it, the kubelet enforces it). */
  runAsNonRoot?: boolean;
  /** The uid the runtime starts the process with (OCI process.user.uid). */
  uid?: number;
  procMount?: 'Default' | 'Unmasked';
  sysctls: Record<string, string>;
  /** Namespaces shared with the host instead of the container's (pod's) own. */
  hostNamespaces: HostNamespace[];
  mounts: MountFact[];
  /** PodSpec volumes the container mounts: name and volume type (hostPath, emptyDir, nfs, ...). */
  volumes?: { name: string; type: string; path?: string }[];
  /** Host ports; undefined when unknown (an OCI spec does not carry port mappings). */
  hostPorts?: number[];
  env: EnvFact[];
  /** Whole Secrets / ConfigMaps imported with envFrom (PodSpec only). */
  envFrom?: { from: 'secret' | 'configMap'; name: string }[];
}

/** What the kernel reports for the container's first process, when its pid is alive. */
export interface KernelFact {
  capEff: string[];
  capBnd: string[];
  noNewPrivs?: boolean;
  /** 0 disabled, 1 strict, 2 filter. */
  seccompMode?: number;
  /** Effective uid. */
  uid?: number;
  /** Namespaces (pid, ipc, net, uts, mnt) whose /proc/PID/ns link equals the host reference process's. */
  sharedWithHost: KernelNamespace[];
  /** /proc/PID/attr/current (AppArmor profile or SELinux context). */
  lsmLabel?: string;
}

export interface ContainerFact {
  id: string;
  /** `manifest`: a container of a rendered PodSpec (see pod-spec.ts), judged without running. */
  runtime: RuntimeName | 'manifest';
  /** `sandbox` (pause) containers tell the pod's namespaces; only `container` ones are judged as workloads. */
  type: 'container' | 'sandbox';
  namespace?: string;
  pod?: string;
  podUid?: string;
  container?: string;
  image?: string;
  sandboxId?: string;
  pid?: number;
  /** The OCI spec read (host path), when it came from a state dir. */
  specPath?: string;
  /** Absent when neither the OCI spec nor the CRI could be read (see errors). */
  declared?: DeclaredFact;
  /** Read for workload containers only; absent when the pid is gone or unknown. */
  kernel?: KernelFact;
  errors: GatherError[];
}

export interface ContainersFact {
  /** Which runtimes were looked at and where; empty when none was found (checks then skip). */
  sources: { runtime: 'containerd' | 'crio' | 'cri' | 'manifest'; path: string }[];
  /** Every place looked at, found or not: the skip reason names them. */
  searched: string[];
  /** The host process whose namespaces count as the host's. */
  hostReference?: { pid: number; process: string };
  items: ContainerFact[];
  errors: GatherError[];
}
