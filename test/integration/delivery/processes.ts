// The processes of the delivery tests: the agent (dist/agent/cli.js run) and the collector under test, the
// real `vigil-collector serve` process. VIGIL_DELIVERY_IN_PROCESS=1 swaps in the same Store, Ingestor and
// transports inside the test process (for debugging with breakpoints).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { register } from 'prom-client';
import { freePort } from '../../harness/integration.js';
import { waitForPort } from '../../harness/nats.js';
import type { TestPki } from '../../harness/mtls.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const AGENT_CLI = join(ROOT, 'dist', 'agent', 'cli.js');
const COLLECTOR_CLI = join(ROOT, 'dist', 'collector', 'cli.js');

export async function waitFor<T>(
  what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, fatal?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const dead = fatal?.();
    if (dead) throw new Error(`gave up waiting for ${what}: ${dead}`);
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- agent ----

export interface AgentProcess {
  metricsPort: number;
  pid: number;
  output(): string;
  /** A metric's value from /metrics (first sample whose line starts with `name`). */
  metric(name: string): Promise<number | undefined>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface AgentArgs {
  hostRoot: string;
  procRoot: string;
  outboxDir: string;
  node?: string;
  transport: 'grpc' | 'nats' | 'both';
  collector?: string;
  natsUrl?: string;
  /** The collector's CA, and a client certificate when the agent proves its node with one. */
  tls?: { ca: string; cert?: string; key?: string };
  /** The agent's ServiceAccount token file (--token-file). */
  tokenFile?: string;
  extra?: string[];
}

async function stopChild(p: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  const timer = setTimeout(() => p.kill('SIGKILL'), 8_000);
  await exited;
  clearTimeout(timer);
}

export async function startAgent(a: AgentArgs): Promise<AgentProcess> {
  const metricsPort = await freePort();
  const args = [AGENT_CLI, 'run', '--host-root', a.hostRoot, '--proc-root', a.procRoot, '--outbox-dir', a.outboxDir,
    '--transport', a.transport, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--rescan-interval', '30s', '--cluster', 'test'];
  if (a.node) args.push('--node-name', a.node);
  if (a.collector) args.push('--collector', a.collector);
  if (a.natsUrl) args.push('--nats-url', a.natsUrl);
  if (a.tls) args.push('--tls-ca', a.tls.ca);
  if (a.tls?.cert && a.tls.key) args.push('--tls-cert', a.tls.cert, '--tls-key', a.tls.key);
  if (a.tokenFile) args.push('--token-file', a.tokenFile);
  args.push(...(a.extra ?? []));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, VIGIL_LOG_LEVEL: 'info' } });
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const metricsText = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  await waitFor('agent /healthz', async () => (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).ok, 60_000,
    () => (proc.exitCode !== null ? `agent exited ${proc.exitCode}: ${out.slice(-2000)}` : undefined));
  return {
    metricsPort,
    pid: proc.pid!,
    output: () => out,
    async metric(name) {
      const line = (await metricsText()).split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
      return line ? Number(line.split(' ').pop()) : undefined;
    },
    stop: () => stopChild(proc, 'SIGTERM'),
    kill: () => stopChild(proc, 'SIGKILL'),
  };
}

// ---- collector ----

export interface StoredFindingView {
  id: string; checkId: string; status: string; evidence: Record<string, unknown>; resolved: boolean; resource?: Record<string, unknown>;
}

export interface CollectorUnderTest {
  kind: 'process' | 'in-process';
  grpcAddr: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  findings(node: string): Promise<StoredFindingView[]>;
  /** Status-change events of one finding, oldest first. */
  events(node: string, findingId: string): Promise<string[]>;
  lastSeq(node: string): Promise<number | undefined>;
  /** When the collector last received a report or delta for the node (ms), undefined when unknown. */
  lastReport(node: string): Promise<number | undefined>;
  /** GET /api/v1/nodes/{node}, undefined for an unknown node. */
  node(node: string): Promise<Record<string, unknown> | undefined>;
  /** The REST base URL. */
  httpUrl: string;
  output(): string;
  metricsText(): Promise<string>;
  cleanup(): Promise<void>;
}

interface CollectorArgs {
  dataDir: string;
  pki: TestPki;
  natsUrl?: string;
  grpcMaxMessageBytes?: number;
  /** Verify agents' ServiceAccount tokens: --sa-issuer with these keys (a JWKS file, or a URL with its CA and bearer). */
  serviceAccounts?: { issuer: string; jwksFile?: string; jwksUrl?: string; jwksCa?: string; jwksTokenFile?: string };
  /** REST tokens file instead of --no-auth, and the read token the helpers use. */
  tokens?: { file: string; read: string };
  extra?: string[];
}

function serviceAccountArgs(sa: NonNullable<CollectorArgs['serviceAccounts']>): string[] {
  const args = ['--sa-issuer', sa.issuer];
  if (sa.jwksFile) args.push('--sa-jwks-file', sa.jwksFile);
  if (sa.jwksUrl) args.push('--sa-jwks-url', sa.jwksUrl);
  if (sa.jwksCa) args.push('--sa-jwks-ca', sa.jwksCa);
  if (sa.jwksTokenFile) args.push('--sa-jwks-token-file', sa.jwksTokenFile);
  return args;
}

/** `vigil-collector serve` from dist/ (npm run build), checked to know the streaming options. */
function collectorCommand(): string[] {
  const help = existsSync(COLLECTOR_CLI) ? spawnSync(process.execPath, [COLLECTOR_CLI, 'serve', '--help'], { encoding: 'utf8' }).stdout ?? '' : '';
  if (!/--grpc-listen/.test(help)) throw new Error(`${COLLECTOR_CLI} serve has no --grpc-listen: run npm run build`);
  return [COLLECTOR_CLI, 'serve'];
}

export async function startCollector(a: CollectorArgs): Promise<CollectorUnderTest> {
  const c = process.env.VIGIL_DELIVERY_IN_PROCESS === '1' ? await inProcessCollector(a) : await processCollector(a, collectorCommand());
  await c.start();
  return c;
}

async function processCollector(a: CollectorArgs, cmd: string[]): Promise<CollectorUnderTest> {
  const grpcPort = await freePort();
  const httpPort = await freePort();
  let proc: ChildProcess | undefined;
  let out = '';
  const base = `http://127.0.0.1:${httpPort}`;
  const auth: Record<string, string> = a.tokens ? { authorization: `Bearer ${a.tokens.read}` } : {};
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(base + path, { headers: auth });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return res.json();
  };
  return {
    kind: 'process',
    grpcAddr: `127.0.0.1:${grpcPort}`,
    httpUrl: base,
    async start() {
      const args = [...cmd, '--data-dir', a.dataDir, '--http-listen', `127.0.0.1:${httpPort}`,
        ...(a.tokens ? ['--tokens', a.tokens.file] : ['--no-auth']),
        '--grpc-listen', `127.0.0.1:${grpcPort}`, '--tls-ca', a.pki.ca, '--tls-cert', a.pki.server.cert, '--tls-key', a.pki.server.key];
      if (a.natsUrl) args.push('--nats-url', a.natsUrl);
      if (a.grpcMaxMessageBytes) args.push('--grpc-max-message-bytes', String(a.grpcMaxMessageBytes));
      if (a.serviceAccounts) args.push(...serviceAccountArgs(a.serviceAccounts));
      args.push(...(a.extra ?? []));
      proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, VIGIL_LOG_LEVEL: 'info' } });
      proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
      const p = proc;
      const dead = (): string | undefined => (p.exitCode !== null ? `collector exited ${p.exitCode}: ${out.slice(-2000)}` : undefined);
      await waitFor('the collector gRPC port', () => waitForPort(grpcPort, 500).then(() => true, () => undefined), 30_000, dead);
      await waitFor('the collector REST port', () => waitForPort(httpPort, 500).then(() => true, () => undefined), 30_000, dead);
    },
    async kill() { if (proc) await stopChild(proc, 'SIGKILL'); proc = undefined; },
    async findings(node) {
      const items: StoredFindingView[] = [];
      for (const status of ['', '&status=resolved']) {
        const page = await get(`/api/v1/findings?node=${encodeURIComponent(node)}&limit=1000${status}`) as { items: Array<Record<string, unknown>> };
        for (const f of page.items) {
          items.push({ id: f.id as string, checkId: f.checkId as string, status: f.status as string,
            evidence: f.evidence as Record<string, unknown>, resolved: f.resolvedAt != null, resource: f.resource as Record<string, unknown> });
        }
      }
      return items;
    },
    async events(node, findingId) {
      const n = await get(`/api/v1/nodes/${encodeURIComponent(node)}?history=1000`) as { history: { events: Array<{ findingId: string; event: string; at: string }> } };
      return n.history.events.filter((e) => e.findingId === findingId)
        .sort((x, y) => Date.parse(x.at) - Date.parse(y.at)).map((e) => e.event);
    },
    async lastSeq(node) {
      // Not every collector version shows it; callers treat undefined as unknown.
      const n = await get(`/api/v1/nodes/${encodeURIComponent(node)}`) as { lastSeq?: number | null };
      return n.lastSeq ?? undefined;
    },
    async lastReport(node) {
      const res = await fetch(`${base}/api/v1/nodes/${encodeURIComponent(node)}`, { headers: auth });
      if (res.status === 404) return undefined;
      return Date.parse(((await res.json()) as { lastReport: string }).lastReport);
    },
    async node(node) {
      const res = await fetch(`${base}/api/v1/nodes/${encodeURIComponent(node)}`, { headers: auth });
      return res.status === 404 ? undefined : (await res.json()) as Record<string, unknown>;
    },
    output: () => out,
    metricsText: async () => (await fetch(`${base}/metrics`, { headers: auth })).text(),
    async cleanup() { if (proc) await stopChild(proc, 'SIGTERM'); },
  };
}

async function inProcessCollector(a: CollectorArgs): Promise<CollectorUnderTest> {
  const { SqliteStore } = await import('../../../collector/store/sqlite.js');
  const { BatchingIngestor } = await import('../../../collector/ingest/ingestor.js');
  const { startTransports } = await import('../../../collector/ingest/transports/index.js');
  const { ServiceAccountVerifier } = await import('../../../collector/ingest/service-accounts.js');
  const grpcPort = await freePort();
  let out = '';
  const sink = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  const log = pino({ level: 'info' }, sink);
  let store: InstanceType<typeof SqliteStore> | undefined;
  let close: (() => Promise<void>) | undefined;
  const open = (): InstanceType<typeof SqliteStore> => { if (!store) throw new Error('collector is down'); return store; };
  const c: CollectorUnderTest = {
    kind: 'in-process',
    grpcAddr: `127.0.0.1:${grpcPort}`,
    httpUrl: '',
    async start() {
      store = new SqliteStore(a.dataDir);
      await store.migrate();
      const ingestor = new BatchingIngestor(store);
      const sa = a.serviceAccounts;
      const serviceAccounts = sa ? new ServiceAccountVerifier({ ...sa, audience: 'vigil', subjects: ['system:serviceaccount:vigil:vigil-agent'], log }) : undefined;
      await serviceAccounts?.start();
      close = await startTransports({ grpcListen: `127.0.0.1:${grpcPort}`, natsUrl: a.natsUrl, tlsCa: a.pki.ca,
        tlsCert: a.pki.server.cert, tlsKey: a.pki.server.key, grpcMaxMessageBytes: a.grpcMaxMessageBytes }, ingestor, log, undefined, { serviceAccounts });
    },
    async kill() {
      await close?.();
      close = undefined;
      await store?.close();
      store = undefined;
    },
    async findings(node) {
      const page = await open().findings({ node, sort: 'recent', limit: 1000, status: ['pass', 'fail', 'warn', 'skip', 'error', 'resolved'] });
      return page.items.map((s) => ({ id: s.finding.id, checkId: s.finding.checkId, status: s.finding.status,
        evidence: s.finding.evidence as Record<string, unknown>, resolved: s.resolvedAt !== null, resource: s.finding.resource }));
    },
    async events(node, findingId) {
      return (await open().findingEvents(node, 10_000, findingId)).sort((x, y) => x.at - y.at).map((e) => e.event);
    },
    lastSeq: (node) => open().lastSeq(node),
    lastReport: async (node) => (await open().node(node))?.lastReport,
    node: async (node) => (await open().node(node)) as unknown as Record<string, unknown> | undefined,
    output: () => out,
    metricsText: () => register.metrics(),
    async cleanup() { await c.kill(); },
  };
  return c;
}
