// Builds Snapshots in code for check tests: no host I/O. Defaults describe an empty node; helpers add facts.
import type {
  ComponentFact, ComponentName, DiscoveredComponent, FileFact, FileRole, FlagMap, KubeletConfigFact, KubeProxyConfigFact, Setting,
  SettingSource, Snapshot,
} from '../../../agent/facts/snapshot.js';
import { parseFlags } from '../../../agent/gather/flags.js';
import { componentSettings } from '../../../agent/gather/component-settings.js';

export function emptySnapshot(): Snapshot {
  return {
    node: { name: 'node-1', roles: [] },
    hostRoot: '/',
    procRoot: '/proc',
    components: {},
    files: {},
    // Cast (a downcast, still type-checked) so that fields other teams add to these facts do not break these tests.
    containers: { sources: [], searched: [], items: [], errors: [] } as Snapshot['containers'],
    sockets: [],
    certificates: [],
    keys: [],
    kernel: { sysctls: {}, missing: [], errors: [] } as Snapshot['kernel'],
    cni: { plugins: [], files: [], errors: [] } as Snapshot['cni'],
    errors: [],
  };
}

/** Flags as the gatherer records them: the real parser, so tests cannot drift from it. */
function flags(args: readonly string[]): FlagMap {
  return parseFlags(args);
}

/** A component as gather records it: flags by the real parser, settings by the real resolver (kube-proxy's over its config fact). */
export function component(
  name: ComponentName, args: readonly string[] = [], extra: Partial<DiscoveredComponent> = {}, kubeProxyConfig?: KubeProxyConfigFact,
): ComponentFact {
  const discovered: DiscoveredComponent = { name, source: 'process', pid: 100, argv: [name, ...args], flags: flags(args), env: {}, ...extra };
  return { ...discovered, settings: componentSettings(discovered, kubeProxyConfig) };
}

/** Adds a component; a kube-proxy reads `s.kubeProxyConfig`, so set that first. */
export function withComponent(s: Snapshot, name: ComponentName, args: readonly string[] = [], extra: Partial<DiscoveredComponent> = {}): Snapshot {
  s.components[name] = component(name, args, extra, s.kubeProxyConfig);
  return s;
}

export function file(path: string, mode: number, owner: { uid?: number; gid?: number; user?: string; group?: string; type?: FileFact['type'] } = {}): FileFact {
  const uid = owner.uid ?? 0;
  const gid = owner.gid ?? 0;
  return {
    path, exists: true, type: owner.type ?? 'file', mode, uid, gid,
    user: owner.user ?? (uid === 0 ? 'root' : String(uid)),
    group: owner.group ?? (gid === 0 ? 'root' : String(gid)),
  };
}

export function missingFile(path: string): FileFact {
  return { path, exists: false };
}

export function unreadableFile(path: string, code = 'EACCES'): FileFact {
  return { path, exists: false, error: { path, code, message: `${code}: permission denied` } };
}

export function withFiles(s: Snapshot, role: FileRole, ...files: FileFact[]): Snapshot {
  s.files[role] = files;
  return s;
}

// Kubelet defaults, from shared/reference/kubelet-defaults.tsv: with a --config file, and flags-only.
const DEFAULTS: Record<string, { withConfig?: unknown; flagsOnly?: unknown; flag?: string }> = {
  'authentication.anonymous.enabled': { withConfig: false, flagsOnly: true, flag: 'anonymous-auth' },
  'authentication.webhook.enabled': { withConfig: true, flagsOnly: false, flag: 'authentication-token-webhook' },
  'authorization.mode': { withConfig: 'Webhook', flagsOnly: 'AlwaysAllow', flag: 'authorization-mode' },
  readOnlyPort: { withConfig: 0, flagsOnly: 10255, flag: 'read-only-port' },
  'authentication.x509.clientCAFile': { flag: 'client-ca-file' },
  streamingConnectionIdleTimeout: { withConfig: '4h0m0s', flagsOnly: '4h0m0s', flag: 'streaming-connection-idle-timeout' },
  protectKernelDefaults: { withConfig: false, flagsOnly: false, flag: 'protect-kernel-defaults' },
  makeIPTablesUtilChains: { withConfig: true, flagsOnly: true, flag: 'make-iptables-util-chains' },
  eventRecordQPS: { withConfig: 50, flagsOnly: 50, flag: 'event-qps' },
  tlsCertFile: { flag: 'tls-cert-file' },
  tlsPrivateKeyFile: { flag: 'tls-private-key-file' },
  rotateCertificates: { withConfig: false, flagsOnly: false, flag: 'rotate-certificates' },
  serverTLSBootstrap: { withConfig: false, flagsOnly: false, flag: 'rotate-server-certificates' },
  tlsCipherSuites: { flag: 'tls-cipher-suites' },
  podPidsLimit: { withConfig: -1, flagsOnly: -1, flag: 'pod-max-pids' },
  seccompDefault: { withConfig: false, flagsOnly: false, flag: 'seccomp-default' },
  address: { withConfig: '0.0.0.0', flagsOnly: '0.0.0.0', flag: 'address' },
  port: { withConfig: 10250, flagsOnly: 10250, flag: 'port' },
  healthzBindAddress: { withConfig: '127.0.0.1', flagsOnly: '127.0.0.1', flag: 'healthz-bind-address' },
  enableDebuggingHandlers: { withConfig: true, flagsOnly: true, flag: 'enable-debugging-handlers' },
  hostnameOverride: { flag: 'hostname-override' },
  staticPodPath: { flag: 'pod-manifest-path' },
  'featureGates.RotateKubeletServerCertificate': {},
};

export const KUBELET_CONFIG_PATH = '/var/lib/kubelet/config.yaml';

/** Every setting at its default for a kubelet started with a config file (`config`) or by flags only. */
function kubeletFact(kind: 'config' | 'flags-only'): KubeletConfigFact {
  const settings: Record<string, Setting> = {};
  for (const [key, d] of Object.entries(DEFAULTS)) {
    const value = kind === 'config' ? d.withConfig : d.flagsOnly;
    settings[key] = {
      key, ...(d.flag ? { flag: d.flag } : {}), value, source: value === undefined ? 'unset' : 'default',
      ...(key === 'readOnlyPort' && kind === 'flags-only' ? { note: 'flags-only default 10255 is version-dependent' } : {}),
    };
  }
  return {
    ...(kind === 'config' ? { configPath: KUBELET_CONFIG_PATH } : {}),
    configLoaded: kind === 'config',
    dropIns: [],
    settings,
    staticPodPath: '/etc/kubernetes/manifests',
    errors: [],
  };
}

/** Sets effective values; `source` defaults to config-file (with the config path) for config kubelets, else flag. */
export function setKubelet(s: Snapshot, values: Record<string, unknown>, source?: SettingSource, path?: string): Snapshot {
  if (!s.kubelet) throw new Error('add a kubelet first (withKubelet)');
  for (const [key, value] of Object.entries(values)) {
    const src = source ?? (s.kubelet.configLoaded ? 'config-file' : 'flag');
    const p = path ?? (src === 'config-file' ? s.kubelet.configPath : undefined);
    const previous = s.kubelet.settings[key] ?? { key };
    s.kubelet.settings[key] = {
      key, ...(previous.flag ? { flag: previous.flag } : {}), value, source: value === undefined ? 'unset' : src,
      ...(p && value !== undefined ? { path: p } : {}),
    };
  }
  return s;
}

export function withKubelet(s: Snapshot, kind: 'config' | 'flags-only' = 'config', args: readonly string[] = []): Snapshot {
  const allArgs = kind === 'config' ? [`--config=${KUBELET_CONFIG_PATH}`, ...args] : [...args];
  withComponent(s, 'kubelet', allArgs);
  s.kubelet = kubeletFact(kind);
  return s;
}
