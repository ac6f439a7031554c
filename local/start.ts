// `npm start`: Vigil on this machine with the embedded defaults. A collector (SQLite under .vigil/data, the dashboard
// and REST on loopback) and an agent scanning this host, connected over loopback gRPC; prints the dashboard and REST
// URLs and a summary of what the agent found; Ctrl-C stops both. Plaintext gRPC (--insecure) is allowed because both ends are on
// loopback; in a cluster the agent and collector use mTLS (see deploy/).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOME = resolve(process.env.VIGIL_LOCAL_DIR ?? '.vigil');
const WAIT_MS = 60_000;

interface FindingItem {
  status: string; severity: string; title: string; checkId: string; cis: string | null; component: string;
  resource: { kind: string; [k: string]: unknown };
}

async function main(): Promise<void> {
  mkdirSync(join(HOME, 'data'), { recursive: true });
  mkdirSync(join(HOME, 'outbox'), { recursive: true });
  const httpPort = await freePort(Number(process.env.VIGIL_HTTP_PORT ?? 8080));
  const grpcPort = await freePort(0);
  const base = `http://127.0.0.1:${httpPort}`;
  const api = `${base}/api/v1`;
  const node = (process.env.VIGIL_NODE_NAME ?? hostname()).toLowerCase();

  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Agent first, so its last deltas can still reach the collector; then the collector.
    for (const child of [...children].reverse()) await terminate(child);
    process.exit(code);
  };
  process.on('SIGINT', () => { process.stdout.write('\nstopping…\n'); void stop(0); });
  process.on('SIGTERM', () => void stop(0));

  const collector = launch('collector', [join(DIST, 'collector/cli.js'), 'serve',
    '--data-dir', join(HOME, 'data'), '--http-listen', `127.0.0.1:${httpPort}`, '--no-auth',
    '--grpc-listen', `127.0.0.1:${grpcPort}`, '--insecure', '--report-interval', '30s']);
  children.push(collector);
  collector.on('exit', (code) => { if (!stopping) { process.stderr.write(`collector exited (${code}); see ${logPath('collector')}\n`); void stop(1); } });
  await waitFor(async () => ok(await fetch(`http://127.0.0.1:${httpPort}/readyz`)), 'the collector to be ready');

  const agent = launch('agent', ['--max-semi-space-size=1', join(DIST, 'bin/vigil-agent.js'), 'run', '--collector', `127.0.0.1:${grpcPort}`, '--insecure',
    '--node-name', node, '--outbox-dir', join(HOME, 'outbox'), '--rescan-interval', '30s']);
  children.push(agent);
  agent.on('exit', (code) => { if (!stopping) { process.stderr.write(`agent exited (${code}); see ${logPath('agent')}\n`); void stop(1); } });

  await waitFor(async () => {
    return ok(await fetch(`${api}/nodes/${encodeURIComponent(node)}`));
  }, `the first report from node ${node}`);
  const findings = await allFindings(api, node);
  // The collector serves the dashboard from dist/dashboard; a build without it still has the API.
  const dashboard = await fetch(`${base}/`).then(ok, () => false) ? `${base}/` : undefined;
  process.stdout.write(summary(api, dashboard, node, findings));
  process.stdout.write(`\nLogs: ${logPath('collector')}, ${logPath('agent')}. Watching for changes; Ctrl-C stops both.\n`);
}

function launch(name: string, args: string[]): ChildProcess {
  const log = openSync(logPath(name), 'a');
  return spawn(process.execPath, args, { stdio: ['ignore', log, log], env: { ...process.env, VIGIL_LOG_LEVEL: process.env.VIGIL_LOG_LEVEL ?? 'info' } });
}

/** Whether a response succeeded, its body drained so the connection is free again. */
async function ok(r: Response): Promise<boolean> {
  await r.arrayBuffer();
  return r.ok;
}

const logPath = (name: string): string => join(HOME, `${name}.log`);

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => { clearTimeout(kill); done(); });
    child.kill('SIGTERM');
  });
}

async function waitFor(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try { if (await probe()) return; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function allFindings(api: string, node: string): Promise<FindingItem[]> {
  const items: FindingItem[] = [];
  let cursor: string | null = null;
  do {
    const url = `${api}/findings?node=${encodeURIComponent(node)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = (await (await fetch(url)).json()) as { items: FindingItem[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

function summary(api: string, dashboard: string | undefined, node: string, findings: FindingItem[]): string {
  const count = (pred: (f: FindingItem) => boolean) => findings.filter(pred).length;
  const by = (s: string) => count((f) => f.status === s);
  const kube = findings.filter((f) => f.cis !== null && f.status !== 'skip');
  const judged = new Map<string, number>();
  for (const f of findings) if (f.status !== 'skip') judged.set(f.resource.kind, (judged.get(f.resource.kind) ?? 0) + 1);
  const lines = [
    '',
    'Vigil is running.',
    `  Dashboard: ${dashboard ?? 'not built (run npm run build)'}`,
    `  REST API: ${api}   (try: curl -s '${api}/findings?status=fail')`,
    '',
    `Node ${node}: ${findings.length} findings — ${by('fail')} fail, ${by('warn')} warn, ${by('pass')} pass, ${by('skip')} skip, ${by('error')} error`,
  ];
  if (kube.length === 0) {
    lines.push('No Kubernetes components found on this node: the CIS checks are skipped.');
    lines.push(`What could be judged here: ${[...judged].map(([k, n]) => `${n} ${k} finding${n === 1 ? '' : 's'}`).join(', ') || 'nothing'}.`);
  }
  const rank = (f: FindingItem) => (f.status === 'fail' ? 10 : 0) + SEVERITY_ORDER.indexOf(f.severity);
  const worst = findings
    .filter((f) => f.status === 'fail' || f.status === 'warn')
    .sort((a, b) => rank(b) - rank(a))
    .slice(0, 10);
  if (worst.length > 0) {
    lines.push('', 'Most severe:');
    for (const f of worst) lines.push(`  ${f.status.padEnd(4)} ${f.severity.padEnd(8)} ${f.title}${describe(f)}`);
  }
  return lines.join('\n') + '\n';
}

const SEVERITY_ORDER = ['info', 'low', 'medium', 'high', 'critical'];

function describe(f: FindingItem): string {
  const r = f.resource;
  if (r.kind === 'port' && f.title.includes(`:${String(r.port)}`)) return '';
  if (r.kind === 'port') return ` (${String(r.protocol)} ${String(r.address)}:${String(r.port)}${r.process ? ` ${String(r.process)}` : ''})`;
  if (r.kind === 'file' || r.kind === 'certificate') return ` (${String(r.path)})`;
  if (r.kind === 'container') return ` (${String(r.namespace ?? '')}/${String(r.pod ?? '')}/${String(r.container ?? r.id)})`;
  return '';
}

/** The preferred port when it is free on loopback, else any free one. */
function freePort(preferred: number): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', () => { if (preferred !== 0) freePort(0).then(done, fail); else fail(new Error('no free port')); });
    srv.listen(preferred, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : preferred;
      srv.close(() => done(port));
    });
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`vigil: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
