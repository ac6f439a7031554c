// Which Kubernetes components run on this node, and with which flags.
//
// A component is recognised from argv[0] (never from `comm`, which truncates to 15 characters: calico's
// kube-controllers and kube-controller-manager both show as "kube-controller"), so a shell or grep whose
// arguments mention "kubelet" is not a kubelet. hyperkube dispatches on argv[1]; k3s and rke2 carry component
// flags as `--kube-apiserver-arg=...` pass-through values.
import * as path from 'node:path';
import type { HostAccess } from './host.js';
import { parseFlags } from './flags.js';
import { readStaticPods } from './static-pods.js';
import { parseYamlObject } from './yaml.js';
import { builtinArgs } from './distribution-defaults.js';
import { ETCD_ENV_KEPT } from './component-settings.js';
import type { DiscoveredComponent, ComponentName, GatherError } from '../facts/snapshot.js';

export type Components = Partial<Record<ComponentName, DiscoveredComponent>>;

const BINARIES: Record<string, ComponentName> = {
  kubelet: 'kubelet',
  'kube-apiserver': 'kube-apiserver',
  'kube-controller-manager': 'kube-controller-manager',
  'kube-scheduler': 'kube-scheduler',
  etcd: 'etcd',
  'kube-proxy': 'kube-proxy',
  containerd: 'containerd',
  crio: 'crio',
  dockerd: 'dockerd',
};

/** hyperkube's subcommands, including the short legacy names. */
const HYPERKUBE: Record<string, ComponentName> = {
  ...BINARIES,
  apiserver: 'kube-apiserver',
  'controller-manager': 'kube-controller-manager',
  scheduler: 'kube-scheduler',
  proxy: 'kube-proxy',
};

/** k3s / rke2 pass-through flag → component. */
const PASSTHROUGH: Record<string, ComponentName> = {
  'kube-apiserver-arg': 'kube-apiserver',
  'kube-controller-manager-arg': 'kube-controller-manager',
  'kube-scheduler-arg': 'kube-scheduler',
  'kubelet-arg': 'kubelet',
  'kube-proxy-arg': 'kube-proxy',
  'etcd-arg': 'etcd',
};

const SERVER_COMPONENTS: ComponentName[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'];
const AGENT_COMPONENTS: ComponentName[] = ['kubelet', 'kube-proxy'];

/** Config files k3s and rke2 read the same keys from as their command lines. */
const DISTRIBUTION_CONFIG: Record<'k3s' | 'rke2', string> = {
  k3s: '/etc/rancher/k3s/config.yaml',
  rke2: '/etc/rancher/rke2/config.yaml',
};

const MAX_CMDLINE = 256 * 1024;

interface Discovery {
  components: Components;
  errors: GatherError[];
}

function readArgv(host: HostAccess, pid: number): string[] | undefined {
  const r = host.readProc([pid, 'cmdline'], MAX_CMDLINE);
  if (!r.ok || r.data.length === 0) return undefined; // vanished, or a kernel thread
  const parts = r.data.toString('utf8').split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Only the variables a check reads. The rest of a process's environment may hold secrets and is never kept. */
function readEtcdEnv(host: HostAccess, pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  const text = host.readProcText([pid, 'environ'], MAX_CMDLINE);
  if (!text) return env;
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0 && ETCD_ENV_KEPT.has(entry.slice(0, eq))) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Component facts for one process, or none when it is not a component (shells, grep, calico's kube-controllers). */
function componentsOfProcess(host: HostAccess, pid: number, rawArgv: string[]): DiscoveredComponent[] {
  // A process that rewrote its title (npm, postgres: "npm exec vitest run test/integration/etcd") has one
  // space-separated argv[0]; Kubernetes components never do, and must not be recognised inside such a title.
  const argv = rawArgv.length === 1 && /\s/.test(rawArgv[0]) ? rawArgv[0].split(/\s+/).filter(Boolean) : rawArgv;
  const base = path.posix.basename(argv[0] ?? '');
  const direct = BINARIES[base];
  if (direct) return [processComponent(host, pid, direct, argv, argv.slice(1))];
  if (base === 'hyperkube') {
    const name = HYPERKUBE[argv[1] ?? ''];
    return name ? [{ ...processComponent(host, pid, name, argv, argv.slice(2)), distribution: 'hyperkube' }] : [];
  }
  if (base === 'k3s' || base === 'rke2') {
    const sub = argv[1];
    if (sub !== 'server' && sub !== 'agent') return [];
    return passthroughComponents(host, pid, base, sub, argv);
  }
  return [];
}

function processComponent(host: HostAccess, pid: number, name: ComponentName, argv: string[], args: string[]): DiscoveredComponent {
  return {
    name,
    source: 'process',
    pid,
    argv,
    flags: parseFlags(args),
    env: name === 'etcd' ? readEtcdEnv(host, pid) : {},
  };
}

function passthroughComponents(host: HostAccess, pid: number, dist: 'k3s' | 'rke2', sub: 'server' | 'agent', argv: string[]): DiscoveredComponent[] {
  const outer = parseFlags(argv.slice(2));
  const fromConfig = readDistributionConfig(host, dist);
  const names = new Set(sub === 'server' ? SERVER_COMPONENTS : AGENT_COMPONENTS);
  // Embedded etcd only with --cluster-init or explicit etcd args; k3s defaults to kine/sqlite.
  if (sub === 'server' && (outer['cluster-init'] || outer['etcd-arg'] || fromConfig['etcd-arg'])) names.add('etcd');
  const out: DiscoveredComponent[] = [];
  for (const name of names) {
    const key = Object.keys(PASSTHROUGH).find((k) => PASSTHROUGH[k] === name)!;
    const values = [...(fromConfig[key] ?? []), ...(outer[key] ?? [])];
    const userArgs = values.map((v) => (v.startsWith('-') ? v : `--${v}`));
    const userFlags = parseFlags(userArgs);
    const secretsEncryption = Boolean(outer['secrets-encryption'] ?? fromConfig['secrets-encryption']);
    const builtins = builtinArgs(dist, name, { secretsEncryption })
      .filter((a) => !(flagName(a) in userFlags));
    const args = [...builtins, ...userArgs];
    out.push({ name, source: 'passthrough', pid, path: argv[0], distribution: dist, argv: args, flags: parseFlags(args), env: {} });
  }
  return out;
}

const flagName = (arg: string): string => arg.replace(/^-+/, '').split('=')[0];

/** `kube-apiserver-arg: [a=b, ...]` keys of /etc/rancher/<dist>/config.yaml, as string lists. */
function readDistributionConfig(host: HostAccess, dist: 'k3s' | 'rke2'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const r = host.readText(DISTRIBUTION_CONFIG[dist], 1024 * 1024);
  if (!r.ok) return out;
  const doc = parseYamlObject(r.text);
  if (!doc) return out;
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'secrets-encryption' && value === true) { out[key] = ['true']; continue; }
    if (!key.endsWith('-arg')) continue;
    const list = Array.isArray(value) ? value : [value];
    out[key] = list.filter((v): v is string => typeof v === 'string');
  }
  return out;
}

/** Every component running as a process. The lowest pid wins when a component runs twice. */
export function discoverProcesses(host: HostAccess): Discovery {
  const components: Components = {};
  for (const pid of host.listPids()) {
    const argv = readArgv(host, pid);
    if (!argv) continue;
    for (const c of componentsOfProcess(host, pid, argv)) {
      const existing = components[c.name];
      // A real process beats a k3s/rke2 pass-through of the same component (rke2 runs them as static pods).
      if (!existing || (existing.source === 'passthrough' && c.source === 'process')) components[c.name] = c;
    }
  }
  return { components, errors: [] };
}

/**
 * Merges static-pod components into process ones: a process keeps its own flags and learns its manifest path;
 * a component seen only in a manifest (not running yet, or invisible to us) is judged on the manifest's flags.
 */
export function withStaticPods(host: HostAccess, processes: Components, staticPodPath: string | undefined): Discovery {
  const pods = readStaticPods(host, staticPodPath);
  const components: Components = { ...processes };
  for (const fromManifest of pods.components) {
    const running = components[fromManifest.name];
    if (running) components[fromManifest.name] = { ...running, manifestPath: fromManifest.manifestPath, version: running.version ?? fromManifest.version };
    else components[fromManifest.name] = fromManifest;
  }
  return { components, errors: pods.errors };
}
