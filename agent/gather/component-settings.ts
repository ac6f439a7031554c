// Effective settings of the control-plane components, etcd and kube-proxy: the command line over etcd's `ETCD_*`
// environment or kube-proxy's `--config` file, over the component's own default. Checks read these values and
// never argv. Only the settings a check reads are resolved; a default is listed where a check relies on it, written
// the way the flag would be. (The kubelet's settings, with its config file and drop-ins, are in kubelet-config.ts.)
import type { ComponentName, DiscoveredComponent, KubeProxyConfigFact, Setting } from '../facts/snapshot.js';
import { featureGates, flagType, invalidValue, lastFlag, listFlag, withCommandLineError } from './flags.js';

interface FlagSetting {
  flag: string;
  /** `list`: a comma list (pflag StringSlice, repeats appended); `gates`: `--feature-gates` as a map, last value wins. */
  kind?: 'text' | 'list' | 'gates';
  default?: string | string[];
}

const text = (flag: string, def?: string): FlagSetting => (def === undefined ? { flag } : { flag, default: def });
const list = (flag: string, def?: string[]): FlagSetting => (def === undefined ? { flag, kind: 'list' } : { flag, kind: 'list', default: def });

// Defaults from each component's `--help` for the Kubernetes versions Vigil supports.
const APISERVER: FlagSetting[] = [
  text('anonymous-auth', 'true'), text('authentication-config'), text('token-auth-file'),
  text('kubelet-client-certificate'), text('kubelet-client-key'), text('kubelet-certificate-authority'),
  list('authorization-mode', ['AlwaysAllow']), text('authorization-config'),
  list('admission-control'), list('enable-admission-plugins'), list('disable-admission-plugins'),
  text('profiling', 'true'),
  text('audit-log-path'), text('audit-log-maxage', '0'), text('audit-log-maxbackup', '0'), text('audit-log-maxsize', '0'),
  text('audit-policy-file'), text('request-timeout', '1m0s'),
  text('service-account-lookup', 'true'), text('service-account-key-file'), text('service-account-issuer'),
  text('service-account-extend-token-expiration', 'true'),
  text('etcd-certfile'), text('etcd-keyfile'), text('etcd-cafile'), text('etcd-servers'),
  text('tls-cert-file'), text('tls-private-key-file'), list('tls-cipher-suites'), text('client-ca-file'),
  text('encryption-provider-config'), text('oidc-issuer-url'), text('enable-bootstrap-token-auth'), text('insecure-port'),
];

const CONTROLLER_MANAGER: FlagSetting[] = [
  text('terminated-pod-gc-threshold'), text('profiling', 'true'), text('use-service-account-credentials', 'false'),
  text('service-account-private-key-file'), text('root-ca-file'), { flag: 'feature-gates', kind: 'gates' },
  text('bind-address', '0.0.0.0'), text('secure-port'), text('port'),
];

const SCHEDULER: FlagSetting[] = [
  text('profiling', 'true'), text('config'), text('bind-address', '0.0.0.0'), text('secure-port'), text('port'),
];

/**
 * etcd reads every flag from an `ETCD_*` variable too. Only these are kept from its environment: others can hold
 * secrets (ETCD_ROOT_PASSWORD on some images) and must not leave gather.
 */
const ETCD: FlagSetting[] = [
  text('cert-file'), text('key-file'), text('client-cert-auth', 'false'), text('auto-tls', 'false'), text('trusted-ca-file'),
  text('peer-cert-file'), text('peer-key-file'), text('peer-client-cert-auth', 'false'), text('peer-auto-tls', 'false'),
  text('peer-trusted-ca-file'), text('data-dir'), text('config-file'), text('name'), text('initial-cluster'),
  text('listen-client-urls'), text('listen-client-http-urls'), text('listen-peer-urls'), text('advertise-client-urls'),
  text('initial-advertise-peer-urls'),
];

const KUBE_PROXY: FlagSetting[] = [text('config')];

const FLAG_SETTINGS: Partial<Record<ComponentName, FlagSetting[]>> = {
  'kube-apiserver': APISERVER,
  'kube-controller-manager': CONTROLLER_MANAGER,
  'kube-scheduler': SCHEDULER,
  etcd: ETCD,
  'kube-proxy': KUBE_PROXY,
};

const etcdEnvName = (flag: string): string => `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`;

/** The `ETCD_*` variables gather keeps from etcd's environment (or its manifest's env). */
export const ETCD_ENV_KEPT: ReadonlySet<string> = new Set(ETCD.map((s) => etcdEnvName(s.flag)));

/** kube-proxy's SetDefaults_KubeProxyConfiguration: 127.0.0.1:10249 ([::1]:10249 with an IPv6 bindAddress; loopback either way). */
const KUBE_PROXY_DEFAULT_METRICS = '127.0.0.1:10249';

/** The settings of every component gather resolves, by component and key: what a check may declare it reads. */
export function knownSettings(component: ComponentName): string[] {
  if (component === 'kube-proxy') return [...KUBE_PROXY.map((s) => s.flag), 'metricsBindAddress'];
  return (FLAG_SETTINGS[component] ?? []).map((s) => s.flag);
}

export function componentSettings(c: DiscoveredComponent, kubeProxyConfig?: KubeProxyConfigFact): Record<string, Setting> {
  const settings: Record<string, Setting> = {};
  for (const spec of FLAG_SETTINGS[c.name] ?? []) settings[spec.flag] = fromFlagOrEnv(c, spec);
  if (c.name === 'kube-proxy') settings.metricsBindAddress = kubeProxyMetrics(c, kubeProxyConfig);
  return settings;
}

function fromFlagOrEnv(c: DiscoveredComponent, spec: FlagSetting): Setting {
  const env = c.name === 'etcd' ? etcdEnvName(spec.flag) : undefined;
  const given = spec.kind === 'list' ? listFlag(c.flags, spec.flag)
    : spec.kind === 'gates' ? (c.flags[spec.flag] ? featureGates(c.flags) : undefined)
      : lastFlag(c.flags, spec.flag);
  const [value, source]: [unknown, Setting['source']] = given !== undefined ? [given, 'flag']
    : env !== undefined && c.env[env] !== undefined ? [c.env[env], 'env']
      : spec.default !== undefined ? [spec.default, 'default'] : [undefined, 'unset'];
  const setting: Setting = env === undefined ? { key: spec.flag, flag: spec.flag, value, source } : { key: spec.flag, flag: spec.flag, env, value, source };
  const envError = source === 'env' ? invalidEnv(c, spec.flag, env!, String(value)) : undefined;
  return withCommandLineError(c, spec.flag, envError ? { ...setting, error: envError } : setting);
}

/** etcd sets a flag from its `ETCD_*` variable through the flag's own parser, and refuses to start on a bad value. */
function invalidEnv(c: DiscoveredComponent, flag: string, env: string, value: string): string | undefined {
  const type = flagType(c.name, flag);
  const invalid = type ? invalidValue(type, value) : undefined;
  return invalid ? `${c.name} would refuse ${env}=${JSON.stringify(value)}: ${invalid}` : undefined;
}

/** With --config, kube-proxy ignores --metrics-bind-address and uses the file, then its default. */
function kubeProxyMetrics(c: DiscoveredComponent, config: KubeProxyConfigFact | undefined): Setting {
  return withCommandLineError(c, 'config', withCommandLineError(c, 'metrics-bind-address', metricsSetting(c, config)));
}

function metricsSetting(c: DiscoveredComponent, config: KubeProxyConfigFact | undefined): Setting {
  const base = { key: 'metricsBindAddress', flag: 'metrics-bind-address' };
  const flag = lastFlag(c.flags, 'metrics-bind-address');
  const configPath = lastFlag(c.flags, 'config');
  if (!configPath) {
    return flag !== undefined ? { ...base, value: flag, source: 'flag' } : { ...base, value: KUBE_PROXY_DEFAULT_METRICS, source: 'default' };
  }
  const path = config?.path ?? configPath;
  const note = flag !== undefined ? `--metrics-bind-address ${flag} is ignored because --config is set` : undefined;
  const fromFile = config?.metricsBindAddress;
  if (fromFile !== undefined && fromFile !== '') return { ...base, value: fromFile, source: 'config-file', path, ...(note ? { note } : {}) };
  return { ...base, value: KUBE_PROXY_DEFAULT_METRICS, source: 'default', path, ...(note ? { note } : {}) };
}
