// Which Kubernetes components run on this node, and with which flags.
//
// A component is recognised from argv[0] (never from `comm`, which truncates to 15 characters: calico's
// kube-controllers and kube-controller-manager both show as "kube-controller"), so a shell or grep whose
// arguments mention "kubelet" is not a kubelet. hyperkube dispatches on argv[1]; k3s and rke2 carry component
// flags as `--kube-apiserver-arg=...` pass-through values.
import * as path from 'node:path';
import type { HostAccess } from './host.js';
import { parseComponentArgs, parseFlags } from './flags.js';
import { redactUrl } from '../../common/address.js';
import { readStaticPods } from './static-pods.js';
import { parseYamlObject } from './yaml.js';
import { builtinArgs } from './distribution-defaults.js';
import { ETCD_ENV_KEPT } from './component-settings.js';
import type { DiscoveredComponent, ComponentName, GatherError, IgnoredProcess } from '../facts/snapshot.js';

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

/** Command lines are read whole up to this (Linux allows a few MB of arguments); a longer one is an error, never a vanishing component. */
const MAX_CMDLINE = 4 * 1024 * 1024;
/** What is read of an over-long command line: enough for argv[0] and a hyperkube or k3s subcommand. */
const CMDLINE_HEAD = 4096;
const MAX_ENVIRON = 1024 * 1024;

/** Components judged on their command line: two processes claiming one of these is reported, never resolved by guess. */
const JUDGED: ReadonlySet<ComponentName> = new Set(['kubelet', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'kube-proxy']);

export interface Discovery {
  components: Components;
  errors: GatherError[];
  /** Processes named like a component that are not judged as one. */
  ignored?: IgnoredProcess[];
}

/** Splits a cmdline into arguments, every URL's userinfo removed: a password in a flag never leaves gather. */
function splitArgv(data: Buffer): string[] {
  const parts = data.toString('utf8').split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map(redactUrl);
}

type ArgvRead = { argv: string[] } | { tooLong: string[]; error: GatherError } | undefined;

function readArgv(host: HostAccess, pid: number): ArgvRead {
  const r = host.readProc([pid, 'cmdline'], MAX_CMDLINE);
  if (r.ok) return r.data.length === 0 ? undefined : { argv: splitArgv(r.data) }; // empty: a kernel thread
  if (r.error.code !== 'EFBIG') return undefined; // vanished
  const head = host.readProcHead([pid, 'cmdline'], CMDLINE_HEAD);
  if (!head) return undefined;
  // The last part of the head may be cut mid-argument: keep only whole ones.
  return { tooLong: splitArgv(head).slice(0, -1), error: { ...r.error, message: `command line over ${MAX_CMDLINE} bytes: not read` } };
}

/** Only the variables a check reads. The rest of a process's environment may hold secrets and is never kept. */
function readEtcdEnv(host: HostAccess, pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  const text = host.readProcText([pid, 'environ'], MAX_ENVIRON);
  if (!text) return env;
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0 && ETCD_ENV_KEPT.has(entry.slice(0, eq))) env[entry.slice(0, eq)] = redactUrl(entry.slice(eq + 1));
  }
  return env;
}

/** A process that rewrote its title has one space-separated argv[0]; Kubernetes components never do. */
function normalArgv(rawArgv: string[]): string[] {
  return rawArgv.length === 1 && /\s/.test(rawArgv[0]) ? rawArgv[0].split(/\s+/).filter(Boolean) : rawArgv;
}

/** The component a command line names by its argv[0] (and hyperkube's subcommand), without reading anything. */
function namedComponent(argv: string[]): ComponentName | undefined {
  const base = path.posix.basename(argv[0] ?? '');
  return BINARIES[base] ?? (base === 'hyperkube' ? HYPERKUBE[argv[1] ?? ''] : undefined);
}

/**
 * Whether a command line runs a component's program (argv[0], hyperkube's subcommand, k3s or rke2 server/agent),
 * read from nothing but the command line: the fast path's look at a new pid before it runs discovery.
 */
export function runsComponentProgram(rawArgv: string[]): boolean {
  const argv = normalArgv(rawArgv);
  if (namedComponent(argv)) return true;
  const base = path.posix.basename(argv[0] ?? '');
  return (base === 'k3s' || base === 'rke2') && (argv[1] === 'server' || argv[1] === 'agent');
}

/** Component facts for one process, or none when it is not a component (shells, grep, calico's kube-controllers). */
function componentsOfProcess(host: HostAccess, pid: number, rawArgv: string[]): DiscoveredComponent[] {
  // A process that rewrote its title (npm, postgres: "npm exec vitest run test/integration/etcd") has one
  // space-separated argv[0]; Kubernetes components never do, and must not be recognised inside such a title.
  const argv = normalArgv(rawArgv);
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
  const { flags, problems } = parseComponentArgs(name, args);
  return {
    name,
    source: 'process',
    pid,
    argv,
    flags,
    ...(problems.length > 0 ? { argvProblems: problems } : {}),
    env: name === 'etcd' ? readEtcdEnv(host, pid) : {},
  };
}

function passthroughComponents(host: HostAccess, pid: number, dist: 'k3s' | 'rke2', sub: 'server' | 'agent', argv: string[]): DiscoveredComponent[] {
  const outer = parseFlags(argv.slice(2));
  const fromConfig = readDistributionConfig(host.processView(pid), dist);
  const names = new Set(sub === 'server' ? SERVER_COMPONENTS : AGENT_COMPONENTS);
  // Embedded etcd only with --cluster-init or explicit etcd args; k3s defaults to kine/sqlite.
  if (sub === 'server' && (outer['cluster-init'] || outer['etcd-arg'] || fromConfig['etcd-arg'])) names.add('etcd');
  const out: DiscoveredComponent[] = [];
  for (const name of names) {
    const key = Object.keys(PASSTHROUGH).find((k) => PASSTHROUGH[k] === name)!;
    const values = [...(fromConfig[key] ?? []), ...(outer[key] ?? [])];
    const userArgs = values.map((v) => redactUrl(v.startsWith('-') ? v : `--${v}`));
    const userFlags = parseComponentArgs(name, userArgs).flags;
    const secretsEncryption = Boolean(outer['secrets-encryption'] ?? fromConfig['secrets-encryption']);
    const builtins = builtinArgs(dist, name, { secretsEncryption })
      .filter((a) => !(flagName(a) in userFlags));
    const args = [...builtins, ...userArgs];
    const { flags, problems } = parseComponentArgs(name, args);
    out.push({
      name, source: 'passthrough', pid, path: argv[0], distribution: dist, argv: args, flags,
      ...(problems.length > 0 ? { argvProblems: problems } : {}), env: {},
    });
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

/**
 * Every component running as a process. A process counts only when it runs as root or as the agent's own user:
 * reading the files another user's process names would hand that user what only root may read (a `nobody` process
 * called kubelet with `--config=/root/secret`). When two processes claim one judged component, both pids are
 * recorded (`candidates`) and its settings are not judged.
 */
export function discoverProcesses(host: HostAccess): Discovery {
  const found = new Map<ComponentName, DiscoveredComponent[]>();
  const errors: GatherError[] = [];
  const ignored: IgnoredProcess[] = [];
  const agentUid = process.geteuid?.() ?? 0;
  for (const pid of host.listPids()) {
    const read = readArgv(host, pid);
    if (!read) continue;
    const named = namedComponent(normalArgv('argv' in read ? read.argv : read.tooLong));
    if ('tooLong' in read) {
      if (!named) continue;
      errors.push(read.error);
      const unread: DiscoveredComponent = {
        name: named, source: 'process', pid, argv: read.tooLong.slice(0, 1), flags: {}, env: {},
        argvProblems: [{ kind: 'unreadable', message: `the command line of pid ${pid} is over ${MAX_CMDLINE} bytes` }],
      };
      if (trusted(host, pid, named, unread.argv[0], agentUid, ignored)) (found.get(named) ?? found.set(named, []).get(named)!).push(unread);
      continue;
    }
    const components = componentsOfProcess(host, pid, read.argv);
    if (components.length === 0) continue;
    if (!trusted(host, pid, components[0].name, normalArgv(read.argv)[0] ?? '', agentUid, ignored)) continue;
    for (const c of components) (found.get(c.name) ?? found.set(c.name, []).get(c.name)!).push(c);
  }
  const components: Components = {};
  for (const [name, all] of found) {
    // A real process beats a k3s/rke2 pass-through of the same component (rke2 runs them as static pods).
    const processes = all.filter((c) => c.source === 'process');
    const pick = processes.length > 0 ? processes : all;
    const chosen = pick[0];
    const pids = [...new Set(pick.map((c) => c.pid!))];
    components[name] = JUDGED.has(name) && pids.length > 1 ? { ...chosen, candidates: pids } : chosen;
  }
  return { components, errors, ignored };
}

/** Root or the agent's own user; otherwise the process is recorded as ignored. */
function trusted(host: HostAccess, pid: number, name: ComponentName, argv0: string, agentUid: number, ignored: IgnoredProcess[]): boolean {
  const uid = host.procOwner(pid);
  if (uid === 0 || uid === agentUid) return true;
  ignored.push({
    pid, component: name, argv0: argv0.slice(0, 256), ...(uid !== undefined ? { uid } : {}),
    reason: uid === undefined ? 'its owner could not be read' : `it runs as uid ${uid}, not root`,
  });
  return false;
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
