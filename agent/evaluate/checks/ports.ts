// Listening ports judged with their context: a port is only as dangerous as what answers on it (anonymous
// kubelet, etcd without client certificates, a plaintext Docker API). Every listener no rule claims is
// listed once as `info`, with its process and container, so the inventory is complete.
import type { Evidence, Severity, Status } from '../../../proto/report.js';
import { parseGoBool } from '../../../common/bool.js';
import { isLoopbackHost } from '../../../common/address.js';
import { fact, settings, type Input } from '../../facts/inputs.js';
import type { ComponentFact, ComponentName, Snapshot } from '../../facts/snapshot.js';
import type { SocketFact } from '../../facts/sockets.js';
import type { Check, CheckMeta, Verdict } from '../check.js';

type PortResource = Extract<Verdict['resource'], { kind: 'port' }>;

/** Process names (comm, at most 15 characters) each component runs under when not found by pid. */
const COMM: Record<string, string[]> = {
  kubelet: ['kubelet'],
  'kube-apiserver': ['kube-apiserver'],
  'kube-controller-manager': ['kube-controller'],
  'kube-scheduler': ['kube-scheduler'],
  etcd: ['etcd'],
  'kube-proxy': ['kube-proxy'],
  dockerd: ['dockerd'],
};

interface Judged {
  status: Status;
  severity?: Severity;
  detail: string;
  expected: string;
  value?: unknown;
}

/** One context-aware rule: which sockets it judges on this node, and how. */
interface PortRule {
  check: CheckMeta;
  /** The settings the rule reads besides the sockets (and the containers they live in). */
  reads: readonly Input[];
  /** The sockets this rule judges, or undefined when the rule does not apply to this node. */
  select(s: Snapshot): { sockets: SocketFact[]; ports: number[] } | undefined;
  judge(s: Snapshot, socket: SocketFact): Judged;
  /** The verdict when the component runs but nothing listens on its port(s). */
  whenClosed?(s: Snapshot, ports: number[]): Judged;
  /** The well-known port named in that verdict when the configured one is 0 (disabled). */
  nominalPort?: number;
}

function portResource(s: Snapshot, k: SocketFact): PortResource {
  const r: PortResource = { kind: 'port', protocol: k.protocol, address: k.address, port: k.port };
  if (k.pid !== undefined) r.pid = k.pid;
  if (k.process !== undefined) r.process = k.process;
  if (k.containerId !== undefined) {
    r.containerId = k.containerId;
    const c = s.containers.items.find((i) => i.id === k.containerId);
    if (c?.namespace && c.pod) r.container = `${c.namespace}/${c.pod}/${c.container ?? ''}`;
  }
  return r;
}

/**
 * Part of the finding id for a socket in (or owned by) a container: its pod and container names, which survive a
 * container restart, rather than the container id, which does not.
 */
function socketDiscriminator(r: PortResource): string | undefined {
  if (typeof r.container === 'string') return r.container;
  return typeof r.containerId === 'string' ? r.containerId : undefined;
}

/**
 * One verdict per finding id: sockets sharing protocol, address, port and container (SO_REUSEPORT listeners,
 * e.g. one per worker) are one listener; the others are counted in the evidence.
 */
function verdictsPerListener(s: Snapshot, sockets: SocketFact[], verdict: (k: SocketFact, r: PortResource) => Verdict): Verdict[] {
  const byKey = new Map<string, { v: Verdict; count: number }>();
  for (const k of sockets) {
    const r = portResource(s, k);
    const discriminator = socketDiscriminator(r);
    const key = `${k.protocol}|${k.address}|${k.port}|${discriminator ?? ''}`;
    const seen = byKey.get(key);
    if (seen) { seen.count++; continue; }
    const v = verdict(k, r);
    if (discriminator !== undefined) v.discriminator = discriminator;
    byKey.set(key, { v, count: 1 });
  }
  return [...byKey.values()].map(({ v, count }) => {
    if (count > 1) v.evidence = { ...v.evidence, detail: `${v.evidence.detail ?? ''}; ${count} sockets share this address and port (SO_REUSEPORT)` };
    return v;
  });
}

function ownedBy(k: SocketFact, comp: ComponentFact | undefined, names: string[]): boolean {
  if (comp?.pid !== undefined && k.pid === comp.pid) return true;
  if (k.process !== undefined) return names.includes(k.process);
  // Owner unknown: the port tells, unless the socket lives in some pod's own network namespace.
  return comp !== undefined && k.containerId === undefined;
}

function tcpSocketsOf(s: Snapshot, name: string, ports: number[]): SocketFact[] {
  const comp = s.components[name as ComponentName];
  return s.sockets.filter((k) => k.protocol.startsWith('tcp') && ports.includes(k.port) && ownedBy(k, comp, COMM[name] ?? [name]));
}

/** Applies when the component runs, or when a process of that name holds one of the ports anyway. */
function componentRule(name: string, ports: (s: Snapshot) => number[]): PortRule['select'] {
  return (s) => {
    const wanted = ports(s).filter((p) => p > 0);
    const sockets = tcpSocketsOf(s, name, wanted);
    if (!s.components[name as ComponentName] && sockets.length === 0) return undefined;
    return { sockets, ports: wanted };
  };
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

function setting(s: Snapshot, key: string): unknown {
  return s.kubelet?.settings[key]?.value;
}

/** The value a component was given (a flag, its environment, its config file), not its default; undefined when none. */
function given(s: Snapshot, comp: ComponentName, key: string): string | undefined {
  const value = s.components[comp]?.settings[key];
  return value && value.source !== 'default' && value.source !== 'unset' && typeof value.value === 'string' ? value.value : undefined;
}

function urlPorts(urls: string | undefined, fallback: number): { port: number; scheme: string }[] {
  const out: { port: number; scheme: string }[] = [];
  for (const raw of (urls ?? '').split(',').map((u) => u.trim()).filter(Boolean)) {
    try {
      const u = new URL(raw);
      const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      out.push({ port, scheme: u.protocol.replace(':', '') });
    } catch { /* not a URL: etcd would refuse to start with it */ }
  }
  return out.length > 0 ? out : [{ port: fallback, scheme: 'http' }];
}

function where(k: SocketFact): string {
  const owner = k.process ? ` (${k.process}${k.pid !== undefined ? `, pid ${k.pid}` : ''})` : k.pid !== undefined ? ` (pid ${k.pid})` : '';
  return `${k.protocol} ${k.address}:${k.port}${owner}`;
}

const LOOPBACK_ONLY = 'bound to loopback only (127.0.0.1 or ::1)';

function exposure(k: SocketFact, exposed: Omit<Judged, 'expected'>, loopback?: Omit<Judged, 'expected'>): Judged {
  if (isLoopbackHost(k.address)) return { status: 'pass', detail: `${where(k)} is loopback only`, expected: LOOPBACK_ONLY, ...loopback };
  return { ...exposed, expected: LOOPBACK_ONLY };
}

const kubeletReadOnly: PortRule = {
  check: {
    id: 'port-kubelet-readonly', cis: null, severity: 'high', component: 'kubelet',
    title: 'Kubelet read-only port (unauthenticated) is open',
    remediation: 'Set readOnlyPort: 0 in the kubelet config file (or --read-only-port=0) and restart the kubelet; use the authenticated port 10250 for metrics.',
  },
  reads: settings('kubelet', 'readOnlyPort'),
  nominalPort: 10255,
  select: componentRule('kubelet', (s) => {
    const configured = num(setting(s, 'readOnlyPort'));
    // Without a kubelet fact, a kubelet process on the legacy port is still the read-only API.
    return configured === undefined ? [10255] : [configured];
  }),
  judge: (s, k) => ({
    status: 'fail',
    severity: isLoopbackHost(k.address) ? 'medium' : 'high',
    detail: `${where(k)} serves pods, node and metrics data without authentication`
      + (isLoopbackHost(k.address) ? ' to every local process' : ' to the network'),
    expected: 'readOnlyPort 0 (closed)',
    value: setting(s, 'readOnlyPort'),
  }),
  whenClosed: (s) => ({
    status: 'pass',
    detail: `readOnlyPort is ${String(setting(s, 'readOnlyPort') ?? 'unset')}; nothing listens on it`,
    expected: 'readOnlyPort 0 (closed)',
    value: setting(s, 'readOnlyPort'),
  }),
};

const kubeletAnonymous: PortRule = {
  check: {
    id: 'port-kubelet-anonymous', cis: null, severity: 'high', component: 'kubelet',
    title: 'Kubelet API reachable from the network with anonymous authentication on',
    remediation: 'Set authentication.anonymous.enabled: false and authorization.mode: Webhook in the kubelet config file (or --anonymous-auth=false --authorization-mode=Webhook) and restart the kubelet.',
  },
  reads: settings('kubelet', 'port', 'authentication.anonymous.enabled', 'authorization.mode'),
  select: componentRule('kubelet', (s) => [num(setting(s, 'port')) ?? 10250]),
  judge: (s, k) => {
    const anonymous = parseGoBool(setting(s, 'authentication.anonymous.enabled'));
    const mode = String(setting(s, 'authorization.mode') ?? 'unknown');
    const context = `authentication.anonymous.enabled=${String(anonymous ?? 'unknown')}, authorization.mode=${mode}`;
    if (anonymous === false) {
      return { status: 'pass', detail: `${where(k)}: anonymous requests are rejected (${context})`, expected: 'anonymous auth off, or loopback only', value: context };
    }
    return exposure(k, {
      status: 'fail',
      severity: mode.split(',').includes('AlwaysAllow') ? 'critical' : 'high',
      detail: `${where(k)} accepts anonymous requests from the network (${context})`
        + (mode.split(',').includes('AlwaysAllow') ? ': anyone who reaches it can exec into every pod' : ''),
      value: context,
    });
  },
};

const apiserverInsecure: PortRule = {
  check: {
    id: 'port-apiserver-insecure', cis: null, severity: 'critical', component: 'kube-apiserver',
    title: 'API server insecure (unauthenticated HTTP) port is open',
    remediation: 'Set --insecure-port=0 on the kube-apiserver (removed entirely in Kubernetes 1.24: upgrade) and use the secure port only.',
  },
  reads: settings('kube-apiserver', 'insecure-port'),
  nominalPort: 8080,
  select: componentRule('kube-apiserver', (s) => {
    const configured = num(given(s, 'kube-apiserver', 'insecure-port'));
    return [configured ?? 8080];
  }),
  judge: (s, k) => ({
    status: 'fail',
    severity: isLoopbackHost(k.address) ? 'high' : 'critical',
    detail: `${where(k)} serves the Kubernetes API over HTTP with no authentication or authorization`,
    expected: 'insecure port disabled (--insecure-port=0)',
    value: given(s, 'kube-apiserver', 'insecure-port'),
  }),
  whenClosed: (s) => ({
    status: 'pass', detail: 'no insecure API server port is listening',
    expected: 'insecure port disabled (--insecure-port=0)', value: given(s, 'kube-apiserver', 'insecure-port'),
  }),
};

function etcdRule(kind: 'client' | 'peer'): PortRule {
  const urlsFlag = kind === 'client' ? 'listen-client-urls' : 'listen-peer-urls';
  const authFlag = kind === 'client' ? 'client-cert-auth' : 'peer-client-cert-auth';
  const fallback = kind === 'client' ? 2379 : 2380;
  const listeners = (s: Snapshot) => {
    const urls = urlPorts(given(s, 'etcd', urlsFlag), fallback);
    const httpOnly = kind === 'client' ? given(s, 'etcd', 'listen-client-http-urls') : undefined;
    return httpOnly ? [...urls, ...urlPorts(httpOnly, fallback)] : urls;
  };
  return {
    check: {
      id: `port-etcd-${kind}-exposed`, cis: null, severity: 'high', component: 'etcd',
      title: `etcd ${kind} port listens beyond loopback`,
      remediation: kind === 'client'
        ? 'Serve etcd clients over TLS with --client-cert-auth=true (--cert-file, --key-file, --trusted-ca-file) and bind --listen-client-urls to 127.0.0.1 plus only the addresses API servers use; firewall 2379 from everything else.'
        : 'Serve etcd peers over TLS with --peer-client-cert-auth=true (--peer-cert-file, --peer-key-file, --peer-trusted-ca-file) and bind --listen-peer-urls to the cluster network only; firewall 2380 from everything else.',
    },
    reads: settings('etcd', urlsFlag, authFlag, ...(kind === 'client' ? ['listen-client-http-urls'] : [])),
    select: componentRule('etcd', (s) => listeners(s).map((l) => l.port)),
    judge: (s, k) => {
      const rawAuth = given(s, 'etcd', authFlag);
      const certAuth = rawAuth === undefined ? false : parseGoBool(rawAuth) ?? false;
      const scheme = listeners(s).find((l) => l.port === k.port)?.scheme ?? 'unknown';
      const context = `--${authFlag}=${rawAuth ?? 'unset (false)'}, scheme ${scheme}`;
      const open = !certAuth || scheme === 'http';
      return exposure(k, open
        ? {
          status: 'fail', severity: 'critical', value: context,
          detail: `${where(k)} is reachable from the network and ${scheme === 'http' ? 'speaks plain HTTP' : 'does not require client certificates'} (${context}): `
            + (kind === 'client' ? 'anyone who reaches it reads and writes every Secret of the cluster' : 'anyone who reaches it can join or disrupt the etcd cluster'),
        }
        : {
          status: 'warn', severity: 'low', value: context,
          detail: `${where(k)} is reachable from the network; it requires client certificates (${context}), so limit who can reach it`,
        }, { status: 'pass', detail: `${where(k)} is loopback only`, value: context });
    },
  };
}

function bindRule(component: 'kube-controller-manager' | 'kube-scheduler', securePort: number): PortRule {
  return {
    check: {
      id: component === 'kube-scheduler' ? 'port-scheduler-exposed' : 'port-controller-manager-exposed',
      cis: null, severity: 'medium', component,
      title: `${component} serves beyond loopback`,
      remediation: `Set --bind-address=127.0.0.1 on the ${component} (its health, metrics and profiling endpoints need no network exposure) and remove any --port other than 0.`,
    },
    reads: settings(component, 'secure-port', 'port', 'bind-address'),
    select: componentRule(component, (s) => {
      const secure = num(given(s, component, 'secure-port')) ?? securePort;
      const insecure = num(given(s, component, 'port'));
      return insecure !== undefined ? [secure, insecure] : [secure];
    }),
    judge: (s, k) => {
      const insecure = num(given(s, component, 'port'));
      const plaintext = insecure !== undefined && k.port === insecure;
      return exposure(k, {
        status: 'fail',
        severity: plaintext ? 'high' : 'medium',
        detail: `${where(k)} is reachable from the network${plaintext ? ' over plain HTTP (the legacy --port)' : ''}`,
        value: given(s, component, 'bind-address') ?? 'unset (0.0.0.0)',
      });
    },
  };
}

const dockerTcp: PortRule = {
  check: {
    id: 'port-docker-tcp', cis: null, severity: 'critical', component: 'dockerd',
    title: 'Docker API over plain TCP',
    remediation: 'Remove -H tcp://... (and "hosts" in /etc/docker/daemon.json) so dockerd listens on its unix socket only; if remote access is required, use TLS with client certificates on 2376.',
  },
  reads: [],
  select: (s) => {
    const dockerd = s.components.dockerd;
    const sockets = s.sockets.filter((k) => k.protocol.startsWith('tcp')
      && ((k.port === 2375 && (k.process === undefined || k.process === 'dockerd'))
        || (ownedBy(k, dockerd, ['dockerd']) && k.process !== undefined && k.port !== 2376)));
    return sockets.length > 0 ? { sockets, ports: [2375] } : undefined;
  },
  judge: (_s, k) => ({
    status: 'fail',
    severity: isLoopbackHost(k.address) ? 'high' : 'critical',
    detail: `${where(k)}: the Docker API without TLS is root on this node for anyone who reaches it`
      + (isLoopbackHost(k.address) ? ' (here: any local process or pod with host network)' : ''),
    expected: 'dockerd on its unix socket only',
  }),
};

const kubeProxyMetrics: PortRule = {
  check: {
    id: 'port-kube-proxy-metrics', cis: null, severity: 'medium', component: 'kube-proxy',
    title: 'kube-proxy metrics served beyond loopback',
    remediation: 'Set metricsBindAddress: 127.0.0.1:10249 in the kube-proxy config (or --metrics-bind-address=127.0.0.1:10249).',
  },
  reads: settings('kube-proxy', 'metricsBindAddress'),
  select: componentRule('kube-proxy', (s) => {
    const configured = given(s, 'kube-proxy', 'metricsBindAddress');
    const port = configured ? num(configured.slice(configured.lastIndexOf(':') + 1)) : undefined;
    return [port ?? 10249];
  }),
  judge: (s, k) => exposure(k, {
    status: 'fail',
    detail: `${where(k)} serves kube-proxy metrics (node and service topology) to the network without authentication`,
    value: given(s, 'kube-proxy', 'metricsBindAddress') ?? 'unset',
  }),
};

const RULES: PortRule[] = [
  kubeletReadOnly,
  kubeletAnonymous,
  apiserverInsecure,
  etcdRule('client'),
  etcdRule('peer'),
  bindRule('kube-controller-manager', 10257),
  bindRule('kube-scheduler', 10259),
  dockerTcp,
  kubeProxyMetrics,
];

function evidence(j: Judged): Evidence {
  const e: Evidence = { source: 'sockets', expected: j.expected, detail: j.detail };
  if (j.value !== undefined) e.value = j.value;
  return e;
}

/** Every port check reads the sockets, and the containers a socket may live in (for its pod's name). */
const SOCKETS: readonly Input[] = [fact('sockets'), fact('containers')];

function ruleCheck(rule: PortRule): Check {
  return {
    ...rule.check,
    reads: [...rule.reads, ...SOCKETS],
    evaluate(s) {
      const selected = rule.select(s);
      if (!selected) return [];
      if (selected.sockets.length === 0) {
        const port = selected.ports[0] ?? rule.nominalPort;
        if (!rule.whenClosed || port === undefined) return [];
        const j = rule.whenClosed(s, selected.ports);
        return [{ status: j.status, resource: { kind: 'port', protocol: 'tcp', address: '*', port }, evidence: evidence(j) }];
      }
      return verdictsPerListener(s, selected.sockets, (k, resource) => {
        const j = rule.judge(s, k);
        const v: Verdict = { status: j.status, resource, evidence: evidence(j) };
        if (j.severity) v.severity = j.severity;
        return v;
      });
    },
  };
}

const inventory: Check = {
  id: 'port-listener', cis: null, severity: 'info', component: 'node',
  title: 'Listening socket',
  remediation: 'Review listeners reachable beyond loopback: stop what is not needed, bind the rest to the addresses that must reach them, and firewall the node.',
  // The listeners no rule claims: it asks every rule which sockets it claims.
  reads: [...RULES.flatMap((r) => r.reads), ...SOCKETS],
  evaluate(s) {
    const claimed = new Set<SocketFact>();
    for (const rule of RULES) for (const k of rule.select(s)?.sockets ?? []) claimed.add(k);
    return verdictsPerListener(s, s.sockets.filter((k) => !claimed.has(k)), (k, r): Verdict => {
      const scope = isLoopbackHost(k.address) ? 'loopback only' : 'reachable beyond loopback';
      const v: Verdict = {
        status: isLoopbackHost(k.address) ? 'pass' : 'warn',
        resource: r,
        title: `Listening: ${where(k)}`,
        evidence: {
          source: 'sockets',
          detail: `${where(k)}, ${scope}${r.container ? `, container ${String(r.container)}` : k.containerId ? `, container ${k.containerId}` : ''}`,
          value: { uid: k.uid, inode: k.inode },
        },
      };
      return v;
    });
  },
};

export const portsChecks: Check[] = [...RULES.map(ruleCheck), inventory];
