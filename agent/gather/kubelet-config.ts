// The kubelet's effective configuration: command-line flags over `--config-dir` drop-ins (*.conf, name order)
// over the `--config` file the kubelet was really started with, over the built-in defaults — which differ between
// a kubelet with a config file and a flags-only one (the latter keeps the legacy command-line defaults).
// kube-bench reads a guessed default path and treats "flag absent" as the answer; Vigil reads what the kubelet reads.
import * as path from 'node:path';
import type { HostAccess } from './host.js';
import { parseGoBool } from '../../common/bool.js';
import { parseGoDuration } from '../../common/duration.js';
import { lastFlag, listFlag, parseFeatureGates, withCommandLineError } from './flags.js';
import { getPath, isRecord } from '../../common/json.js';
import { parseConfigBytes } from './yaml.js';
import type { DiscoveredComponent, GatherError, KubeletConfigFact, Setting } from '../facts/snapshot.js';

type ValueType = 'boolean' | 'number' | 'string' | 'list';

interface SettingSpec {
  key: string;
  flag?: string;
  type: ValueType;
  /** Default when the kubelet has a --config file (KubeletConfiguration defaulting). */
  withConfig?: unknown;
  /** Default of a flags-only kubelet (legacy command-line defaults). */
  flagsOnly?: unknown;
  note?: string;
  /** The kubelet replaces a zero value from a config file with this default (defaults.go); only a flag can set zero. */
  zeroFromFileMeans?: unknown;
  /** A path the kubelet resolves against the config file's dir when relative (KubeletConfigurationPathRefs). */
  isPath?: boolean;
  /** A metav1.Duration: text that time.ParseDuration accepts. */
  isDuration?: boolean;
}

// From ../shared/reference/kubelet-defaults.tsv (kubelet sources: applyLegacyDefaults, SetDefaults_KubeletConfiguration).
export const KUBELET_SETTINGS: SettingSpec[] = [
  { key: 'authentication.anonymous.enabled', flag: 'anonymous-auth', type: 'boolean', withConfig: false, flagsOnly: true },
  { key: 'authentication.webhook.enabled', flag: 'authentication-token-webhook', type: 'boolean', withConfig: true, flagsOnly: false },
  { key: 'authorization.mode', flag: 'authorization-mode', type: 'string', withConfig: 'Webhook', flagsOnly: 'AlwaysAllow' },
  {
    key: 'readOnlyPort', flag: 'read-only-port', type: 'number', withConfig: 0, flagsOnly: 10255,
    note: 'flags-only default 10255 comes from the legacy flag defaults; some recent kubelet versions no longer set it',
  },
  { key: 'authentication.x509.clientCAFile', flag: 'client-ca-file', type: 'string', isPath: true },
  {
    key: 'streamingConnectionIdleTimeout', flag: 'streaming-connection-idle-timeout', type: 'string', isDuration: true,
    withConfig: '4h0m0s', flagsOnly: '4h0m0s', zeroFromFileMeans: '4h0m0s',
  },
  { key: 'protectKernelDefaults', flag: 'protect-kernel-defaults', type: 'boolean', withConfig: false, flagsOnly: false },
  { key: 'makeIPTablesUtilChains', flag: 'make-iptables-util-chains', type: 'boolean', withConfig: true, flagsOnly: true },
  { key: 'eventRecordQPS', flag: 'event-qps', type: 'number', withConfig: 50, flagsOnly: 50 },
  { key: 'tlsCertFile', flag: 'tls-cert-file', type: 'string', isPath: true },
  { key: 'tlsPrivateKeyFile', flag: 'tls-private-key-file', type: 'string', isPath: true },
  { key: 'rotateCertificates', flag: 'rotate-certificates', type: 'boolean', withConfig: false, flagsOnly: false },
  { key: 'serverTLSBootstrap', flag: 'rotate-server-certificates', type: 'boolean', withConfig: false, flagsOnly: false },
  { key: 'tlsCipherSuites', flag: 'tls-cipher-suites', type: 'list' },
  { key: 'podPidsLimit', flag: 'pod-max-pids', type: 'number', withConfig: -1, flagsOnly: -1 },
  { key: 'seccompDefault', flag: 'seccomp-default', type: 'boolean', withConfig: false, flagsOnly: false },
  { key: 'address', flag: 'address', type: 'string', withConfig: '0.0.0.0', flagsOnly: '0.0.0.0' },
  { key: 'port', flag: 'port', type: 'number', withConfig: 10250, flagsOnly: 10250 },
  { key: 'healthzBindAddress', flag: 'healthz-bind-address', type: 'string', withConfig: '127.0.0.1', flagsOnly: '127.0.0.1' },
  { key: 'enableDebuggingHandlers', flag: 'enable-debugging-handlers', type: 'boolean', withConfig: true, flagsOnly: true },
  { key: 'hostnameOverride', flag: 'hostname-override', type: 'string' },
  { key: 'staticPodPath', flag: 'pod-manifest-path', type: 'string', isPath: true },
  { key: 'featureGates.RotateKubeletServerCertificate', type: 'boolean' },
];

const CONFIG_MAX_BYTES = 4 * 1024 * 1024;
const MAX_DROP_INS = 256;

interface Layer {
  source: 'config-file' | 'config-dir';
  path: string;
  doc: Record<string, unknown>;
}

export function gatherKubeletConfig(hostView: HostAccess, kubelet: DiscoveredComponent): KubeletConfigFact {
  // The files the kubelet itself reads when it opens these paths (its mount namespace, its root).
  const host = hostView.processView(kubelet.pid);
  const errors: GatherError[] = [];
  const layers: Layer[] = [];
  const configPath = absolute(lastFlag(kubelet.flags, 'config'));
  let configLoaded = false;
  if (configPath) {
    const doc = readConfigDoc(host, configPath, errors);
    if (doc) { layers.push({ source: 'config-file', path: configPath, doc }); configLoaded = true; }
  }
  const configDir = absolute(lastFlag(kubelet.flags, 'config-dir')) ?? distributionConfigDir(host, kubelet);
  const dropIns: string[] = [];
  if (configDir) {
    const listing = host.readDir(configDir);
    if (!listing.ok) errors.push(listing.error);
    else {
      const names = listing.entries.map((e) => e.name).filter((n) => n.endsWith('.conf')).sort().slice(0, MAX_DROP_INS);
      for (const name of names) {
        const p = path.posix.join(configDir, name);
        const doc = readConfigDoc(host, p, errors);
        if (doc) { layers.push({ source: 'config-dir', path: p, doc }); dropIns.push(p); }
      }
    }
  }

  // The kubelet applies config-file defaults whenever it was started with --config, even if the file failed to load
  // (it would refuse to start then; what we see is a kubelet that did start with some config).
  const hasConfig = configPath !== undefined;
  const settings: Record<string, Setting> = {};
  for (const spec of KUBELET_SETTINGS) settings[spec.key] = resolve(spec, kubelet, layers, hasConfig);
  const staticPodPath = settings.staticPodPath.value;
  return {
    configPath,
    configLoaded,
    configDir,
    dropIns,
    settings,
    staticPodPath: typeof staticPodPath === 'string' && staticPodPath !== '' ? absolute(staticPodPath) : undefined,
    errors,
  };
}

/** k3s and rke2 run the kubelet in-process with a drop-in dir of their own defaults. */
function distributionConfigDir(host: HostAccess, kubelet: DiscoveredComponent): string | undefined {
  if (kubelet.distribution !== 'k3s' && kubelet.distribution !== 'rke2') return undefined;
  const dir = `/var/lib/rancher/${kubelet.distribution}/agent/etc/kubelet.conf.d`;
  return host.exists(dir) ? dir : undefined;
}

function absolute(p: string | undefined): string | undefined {
  if (p === undefined || p === '') return undefined;
  return path.posix.resolve('/', p);
}

function readConfigDoc(host: HostAccess, p: string, errors: GatherError[]): Record<string, unknown> | undefined {
  const r = host.readDerived(p, CONFIG_MAX_BYTES, parseConfigBytes);
  if (!r.ok) { errors.push(r.error); return undefined; }
  const parsed = r.value;
  if (!parsed.ok) { errors.push({ path: p, code: 'EINVAL', message: `invalid kubelet config: ${parsed.message}` }); return undefined; }
  return parsed.value;
}

function resolve(spec: SettingSpec, kubelet: DiscoveredComponent, layers: Layer[], hasConfig: boolean): Setting {
  const flag = spec.flag ?? (spec.key.startsWith('featureGates.') ? 'feature-gates' : undefined);
  return withCommandLineError(kubelet, flag, resolveValue(spec, kubelet, layers, hasConfig));
}

/**
 * The kubelet decodes its config files into typed Go fields and refuses to start on a value of the wrong type
 * (`tlsCertFile: 1111`, `readOnlyPort: "0"`): such a value is an error, never a path or a port to judge.
 */
function wrongType(spec: SettingSpec, raw: unknown, file: string): string | undefined {
  const ok = spec.type === 'boolean' ? typeof raw === 'boolean'
    : spec.type === 'number' ? typeof raw === 'number' && Number.isInteger(raw)
      : spec.type === 'list' ? Array.isArray(raw) && raw.every((x) => typeof x === 'string')
        : typeof raw === 'string' && (!spec.isDuration || parseGoDuration(raw) !== undefined);
  if (ok) return undefined;
  const expected = spec.type === 'boolean' ? 'a boolean' : spec.type === 'number' ? 'an integer'
    : spec.type === 'list' ? 'a list of strings' : spec.isDuration ? 'a duration such as 4h0m0s' : 'a string';
  return `${spec.key} is ${describe(raw)} in ${file}: the kubelet would refuse this config file, it expects ${expected}`;
}

function describe(raw: unknown): string {
  const text = JSON.stringify(raw) ?? String(raw);
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  const kind = Array.isArray(raw) ? 'a list' : raw === null ? 'null' : typeof raw === 'object' ? 'a mapping' : `a ${typeof raw}`;
  return `${shown} (${kind})`;
}

function resolveValue(spec: SettingSpec, kubelet: DiscoveredComponent, layers: Layer[], hasConfig: boolean): Setting {
  const base = { key: spec.key, ...(spec.flag ? { flag: spec.flag } : {}) };
  const fromFlag = flagValue(spec, kubelet);
  if (fromFlag !== undefined) return { ...base, value: fromFlag, source: 'flag' };
  // Later layers win: drop-ins in name order over the config file.
  for (let i = layers.length - 1; i >= 0; i--) {
    const raw = getPath(layers[i].doc, spec.key);
    if (raw === undefined || raw === null) continue;
    const layer = { source: layers[i].source, path: layers[i].path };
    const typeError = wrongType(spec, raw, layers[i].path);
    if (typeError) return { ...base, value: raw, ...layer, error: typeError };
    const value = normalise(spec.type, raw);
    if (spec.isPath && layers[i].source === 'config-file' && typeof value === 'string' && value !== '' && !value.startsWith('/')) {
      const resolved = path.posix.join(path.posix.dirname(layers[i].path), value);
      return { ...base, value: resolved, ...layer,
        note: `the file says ${value}; the kubelet resolves relative paths in its config file against the file's dir` };
    }
    if (spec.zeroFromFileMeans !== undefined && isZero(value)) {
      return { ...base, value: spec.zeroFromFileMeans, ...layer,
        note: `the file says ${String(raw)}; the kubelet defaults a zero value from a config file to ${String(spec.zeroFromFileMeans)}` };
    }
    return { ...base, value, ...layer };
  }
  const def = hasConfig ? spec.withConfig : spec.flagsOnly;
  if (def === undefined) return { ...base, value: undefined, source: 'unset' };
  return { ...base, value: def, source: 'default', ...(spec.note && !hasConfig ? { note: spec.note } : {}) };
}

function flagValue(spec: SettingSpec, kubelet: DiscoveredComponent): unknown {
  if (spec.key.startsWith('featureGates.')) {
    const gates = kubelet.flags['feature-gates'];
    if (!gates) return undefined;
    return parseFeatureGates(gates)[spec.key.slice('featureGates.'.length)];
  }
  if (!spec.flag) return undefined;
  if (spec.type === 'list') return listFlag(kubelet.flags, spec.flag);
  const raw = lastFlag(kubelet.flags, spec.flag);
  return raw === undefined ? undefined : normalise(spec.type, raw);
}

/** 0, "0", "0s", "0h0m0s": a zero number or Go duration. */
function isZero(value: unknown): boolean {
  return value === 0 || (typeof value === 'string' && parseGoDuration(value) === 0);
}

/** Config files are typed, flags are strings, hostile files are anything: bring both to the setting's type. */
function normalise(type: ValueType, raw: unknown): unknown {
  switch (type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      return typeof raw === 'string' ? parseGoBool(raw) ?? raw : raw;
    case 'number':
      if (typeof raw === 'number') return raw;
      return typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      return typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
    case 'string':
      return isRecord(raw) || Array.isArray(raw) ? raw : String(raw);
  }
}
