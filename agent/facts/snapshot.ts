// The typed snapshot of one node: everything gather found, nothing judged yet.
// Evaluation (agent/evaluate) is pure functions over this type. Paths are host paths (as the host
// sees them, e.g. /etc/kubernetes/pki/ca.crt), never prefixed with --host-root.
import type { ContainersFact } from './containers.js';
import type { SocketFact } from './sockets.js';
import type { CertificateFact, KeyFact } from './pki.js';
import type { KernelFact } from './kernel.js';
import type { CniFact } from './cni.js';
import type { FileFact, GatherError } from './file.js';

export type { FileFact, FileType, GatherError } from './file.js';

export const COMPONENTS = [
  'kubelet',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'etcd',
  'kube-proxy',
  'containerd',
  'crio',
  'dockerd',
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** Command-line flags: name without leading dashes → every value given, in order (repeats kept). */
export type FlagMap = Record<string, string[]>;

/**
 * What reading a component's command line the way the component does found wrong. `refused`: its parser rejects the
 * command line (a flag that needs a value at the end, a value of the wrong type, a positional argument), so no
 * setting can be known from it. `unreadable`: the command line could not be read whole. `ambiguous`: the value of
 * `flag` depends on how a flag Vigil does not know reads.
 */
export interface ArgvProblem {
  kind: 'refused' | 'unreadable' | 'ambiguous';
  /** The flag concerned (without dashes), when there is one. */
  flag?: string;
  message: string;
}

/** A Kubernetes component as discovery finds it: a process's argv or, failing that, its static pod manifest. */
export interface DiscoveredComponent {
  name: ComponentName;
  /** `process`: a live process; `passthrough`: k3s/rke2 `--<component>-arg` values on the distribution's process; `manifest`: a static pod manifest only. */
  source: 'process' | 'passthrough' | 'manifest';
  pid?: number;
  /** The manifest path when source is `manifest`; the distribution binary when `passthrough`. */
  path?: string;
  /** The static pod manifest that defines this component, when one exists (even if it also runs as a process). */
  manifestPath?: string;
  /** k3s / rke2 / hyperkube when the component runs inside one. */
  distribution?: 'k3s' | 'rke2' | 'hyperkube';
  /** The command line, URL userinfo (`user:password@`) removed. */
  argv: string[];
  flags: FlagMap;
  /** Where the command line cannot be read the way the component reads it (none when it can). */
  argvProblems?: ArgvProblem[];
  /**
   * When more than one process claims to be this component (two kubelets), every pid: Vigil cannot tell which one
   * serves the node, and judges none of them. The fields above are the lowest pid's.
   */
  candidates?: number[];
  /** Only the variables a check reads (etcd's ETCD_*): never the whole environment. */
  env: Record<string, string>;
  version?: string;
}

/** A process named like a component that is not judged as one (it does not run as root). */
export interface IgnoredProcess {
  pid: number;
  component: ComponentName;
  argv0: string;
  uid?: number;
  reason: string;
}

/** A Kubernetes component found on the node, with the effective value of every setting the checks read. */
export interface ComponentFact extends DiscoveredComponent {
  /**
   * By key (the flag name; for kube-proxy, the config key): the command line over the `ETCD_*` environment
   * (etcd) or the `--config` file (kube-proxy) over the component's default. Checks read these, never argv.
   * The kubelet's are in `Snapshot.kubelet`, with the config files and drop-ins they come from.
   */
  settings: Record<string, Setting>;
}

export type SettingSource = 'flag' | 'env' | 'config-dir' | 'config-file' | 'default' | 'unset';

/** An effective value and where it came from. */
export interface Setting {
  /** Config key (e.g. `authentication.anonymous.enabled`) or flag name. */
  key: string;
  /** The command-line flag that sets it, without dashes. */
  flag?: string;
  /** The environment variable that sets it (etcd reads every flag from `ETCD_*` too). */
  env?: string;
  /**
   * Value as found: text from a flag or the environment (a list for comma-list flags, a map for --feature-gates),
   * typed (boolean, number, string[]) from a config file; a default is written the way its source would write it.
   * Undefined when unset.
   */
  value: unknown;
  source: SettingSource;
  /**
   * Why the effective value cannot be known: the component would refuse its command line or config file (a flag
   * without its value, a config field of the wrong type), or the value depends on a flag Vigil does not know. A
   * check judging this setting reports an error, never a verdict.
   */
  error?: string;
  /** With `error`, when the command line is why: the command line (bounded), for evidence. */
  commandLine?: string[];
  /** File the value came from (config-file, config-dir sources); for kube-proxy, also the --config file that left it at its default. */
  path?: string;
  /** What a reader must know besides the value: a default that varies by version, a flag the component ignores. */
  note?: string;
}

export interface KubeletConfigFact {
  /** The `--config` path from the kubelet's command line (host path), if any. */
  configPath?: string;
  /** True when the config file was read and parsed. */
  configLoaded: boolean;
  configDir?: string;
  /** Drop-in files merged over the config file, in the order applied. */
  dropIns: string[];
  /** Effective value for every setting the checks read, keyed by config key (`readOnlyPort`, `authentication.anonymous.enabled`, `featureGates.RotateKubeletServerCertificate`, ...). */
  settings: Record<string, Setting>;
  /** Static pod manifest dir: `staticPodPath` or `--pod-manifest-path`. */
  staticPodPath?: string;
  errors: GatherError[];
}

/** Files grouped by the role a check knows them by. Each role lists every file that plays it (one or many). */
export type FileRole =
  | 'apiserver.manifest'
  | 'controller-manager.manifest'
  | 'scheduler.manifest'
  | 'etcd.manifest'
  | 'etcd.data-dir'
  | 'admin.kubeconfig'
  | 'scheduler.kubeconfig'
  | 'controller-manager.kubeconfig'
  | 'pki.tree'
  | 'pki.cert'
  | 'pki.key'
  | 'kubelet.service'
  | 'kubelet.kubeconfig'
  | 'kubelet.config'
  | 'kubelet.client-ca'
  | 'kube-proxy.kubeconfig';

export interface EncryptionConfigFact {
  path: string;
  /** For each resources[] entry: its resources and its providers in order (the first one encrypts new writes). */
  resources: { resources: string[]; providers: string[] }[];
  error?: GatherError;
}

export interface KubeProxyConfigFact {
  path: string;
  metricsBindAddress?: string;
  /** clientConnection.kubeconfig */
  kubeconfig?: string;
  error?: GatherError;
}

export interface Snapshot {
  node: {
    name: string;
    roles: string[];
    os?: string;
    kernel?: string;
    architecture?: string;
    cpus?: number;
    memoryBytes?: number;
  };
  hostRoot: string;
  procRoot: string;
  /** Who gathered: without root, permission errors are expected and summarised. */
  scannedAs?: { uid: number };
  components: Partial<Record<ComponentName, ComponentFact>>;
  /** Processes named like a component that discovery did not take for one. */
  ignoredProcesses?: IgnoredProcess[];
  /** Present when a kubelet runs on the node. */
  kubelet?: KubeletConfigFact;
  files: Partial<Record<FileRole, FileFact[]>>;
  encryptionConfig?: EncryptionConfigFact;
  kubeProxyConfig?: KubeProxyConfigFact;
  containers: ContainersFact;
  sockets: SocketFact[];
  certificates: CertificateFact[];
  keys: KeyFact[];
  kernel: KernelFact;
  cni: CniFact;
  errors: GatherError[];
}
