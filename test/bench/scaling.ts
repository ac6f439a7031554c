// Scaling benchmark (`npm run bench scaling`): 5,000 simulated agents publish to a real nats-server JetStream as the
// agent does (subject vigil.findings.<cluster>.<node>, msgID node:seq, protobuf AgentMessage): a full report of 150
// findings each, then a 1% churn round as deltas (agent/diff, only for nodes whose findings changed). 1, 2 and 3 real
// `vigil-collector serve` processes (built CLI) consume them from one shared durable consumer into one real
// PostgreSQL; one more run on SQLite with one collector. Per run: findings/s of the full round, and for the churn
// round the time from publishing a change until GET /api/v1/findings on one of the replicas shows it (p50/p99), with
// the CPU seconds each side used (collectors, PostgreSQL, nats-server, this process) from /proc.
// VIGIL_BENCH_NODES shrinks it; VIGIL_BENCH_SCALING=sqlite:1,postgres:1,... picks the runs.
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import pg from 'pg';
import { SQLITE_FILE } from '../../collector/store/sqlite.js';
import { diffReports, isEmptyDelta } from '../../agent/diff/index.js';
import { FINDINGS_STREAM, findingsSubject, messageId } from '../../proto/nats.js';
import type { NodeReport } from '../../proto/report.js';
import { envelopeToWire, loadVigilProto, type Envelope } from '../../proto/wire.js';
import { freePort, tempDir } from '../harness/integration.js';
import { startNats, type NatsHarness } from '../harness/nats.js';
import { postgresBinaries, startPostgres, type PostgresServer } from '../harness/postgres.js';
import { ownCpuSeconds, pidByArgs, treeCpuSeconds } from './collector-cpu.js';
import { simulatedReport } from './collector-sim.js';
import { percentile } from './processes.js';

const NODES = Number(process.env.VIGIL_BENCH_NODES ?? 5000);
const PER_NODE = 150;
const CLUSTER = 'bench';
const DURABLE = 'vigil-bench';
/** JetStream publishes in flight at once (each waits for its PubAck), as many agents publishing side by side. */
const PUBLISH_WINDOW = 64;
/** The churn round's deltas are published evenly over this long (agents whose scans found a change). */
const CHURN_SECONDS = 10;
/** Changes whose visibility is timed (spread evenly over the churn round). */
const LATENCY_SAMPLES = 200;
const POLL_MS = 20;
const RUNS = (process.env.VIGIL_BENCH_SCALING ?? 'sqlite:1,postgres:1,postgres:2,postgres:3').split(',').map((r) => {
  const [store, n] = r.split(':');
  return { store: store as 'sqlite' | 'postgres', replicas: Number(n) };
});
const COLLECTOR_CLI = fileURLToPath(new URL('../../collector/cli.js', import.meta.url));

interface Cpu { collectors: number; database: number; nats: number; bench: number }
interface Round { seconds: number; cpu: Cpu }
interface RunResult {
  store: string; replicas: number; full: Round; fullFindings: number; churn: Round; deltas: number; changes: number;
  p50: number; p99: number; max: number; load: [number, number];
}

const nodeName = (n: number): string => `node-${String(n).padStart(5, '0')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Collector { pid: number; url: string; proc: ChildProcess; output(): string }

async function startCollector(store: string[], natsUrl: string): Promise<Collector> {
  const port = await freePort();
  const args = [COLLECTOR_CLI, 'serve', ...store, '--http-listen', `127.0.0.1:${port}`, '--no-auth', '--no-kube',
    '--nats-url', natsUrl, '--nats-durable', DURABLE, '--log-level', 'warn'];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`collector exited ${proc.exitCode}: ${out}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`collector not ready after 60 s: ${out}`);
    await sleep(100);
  }
  return { pid: proc.pid!, url, proc, output: () => out };
}

async function stopCollector(c: Collector): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * How many nodes the store holds at `seq` or later, read straight from the database: asking the collectors (/metrics)
 * would make them compute the correlation gauges, seconds of CPU at 5,000 nodes, and slow what is measured.
 */
type StoredAt = (seq: number) => Promise<number>;

async function storedAtReader(database: string | undefined, dataDir: string): Promise<{ storedAt: StoredAt; close(): Promise<void> }> {
  if (database) {
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    return {
      storedAt: async (seq) => Number((await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM nodes WHERE last_seq >= $1', [seq])).rows[0].n),
      close: () => client.end(),
    };
  }
  const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
  const count = db.prepare('SELECT COUNT(*) AS n FROM nodes WHERE last_seq >= ?');
  return { storedAt: async (seq) => (count.get(seq) as { n: number }).n, close: async () => { db.close(); } };
}

async function waitStored(storedAt: StoredAt, seq: number, count: number, timeoutMs: number, collectors: readonly Collector[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await storedAt(seq)) < count) {
    if (Date.now() > deadline) {
      throw new Error(`only ${await storedAt(seq)} of ${count} nodes stored at seq ${seq} after ${timeoutMs / 1000} s; `
        + collectors.map((c) => c.output()).join('\n'));
    }
    await sleep(100);
  }
}

function encode(e: Envelope): Uint8Array {
  return loadVigilProto().encodeAgentMessage(envelopeToWire(e));
}

async function publish(js: JetStreamClient, node: string, seq: number, data: Uint8Array): Promise<void> {
  await js.publish(findingsSubject(CLUSTER, node), data, { msgID: messageId(node, seq), expect: { streamName: FINDINGS_STREAM }, timeout: 30_000 });
}

/** Every message published with at most PUBLISH_WINDOW awaiting their PubAck. */
async function publishAll(js: JetStreamClient, messages: ReadonlyArray<{ node: string; seq: number; data: Uint8Array }>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < messages.length) {
      const m = messages[next++];
      await publish(js, m.node, m.seq, m.data);
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_WINDOW }, worker));
}

interface Meters { collectors: readonly Collector[]; databasePid?: number; natsPid?: number }

function cpuNow(m: Meters): Cpu {
  return {
    collectors: m.collectors.reduce((s, c) => s + treeCpuSeconds(c.pid), 0),
    database: m.databasePid ? treeCpuSeconds(m.databasePid) : 0,
    nats: m.natsPid ? treeCpuSeconds(m.natsPid) : 0,
    bench: ownCpuSeconds(),
  };
}

const cpuSince = (a: Cpu, b: Cpu): Cpu => ({
  collectors: b.collectors - a.collectors, database: b.database - a.database, nats: b.nats - a.nats, bench: b.bench - a.bench,
});

interface Workload {
  fulls: Array<{ node: string; seq: number; data: Uint8Array }>;
  deltas: Array<{ node: string; seq: number; data: Uint8Array; check: string; findingId: string; status: string }>;
  changes: number;
}

/** The messages, encoded before anything is timed (real agents encode on their own nodes). */
function workload(): Workload {
  const t0 = Date.now() - 60_000;
  const fulls: Workload['fulls'] = [];
  const deltas: Workload['deltas'] = [];
  let changes = 0;
  for (let n = 0; n < NODES; n++) {
    const node = nodeName(n);
    const before: NodeReport = simulatedReport(n, 0, PER_NODE, new Date(t0));
    fulls.push({ node, seq: 1, data: encode({ node, cluster: CLUSTER, epoch: 'bench', seq: 1, payload: { kind: 'full', report: before } }) });
    const after = simulatedReport(n, 1, PER_NODE, new Date(t0 + 30_000));
    const delta = diffReports(before, after);
    if (isEmptyDelta(delta)) continue;
    changes += delta.added.length + delta.changed.length + delta.resolved.length;
    const first = delta.changed[0] ?? delta.added[0];
    deltas.push({ node, seq: 2, data: encode({ node, cluster: CLUSTER, epoch: 'bench', seq: 2, payload: { kind: 'delta', delta } }),
      check: first.checkId, findingId: first.id, status: first.status });
  }
  return { fulls, deltas, changes };
}

/** Polls GET /api/v1/findings on `url` until the finding shows `status`; ms from `since`. */
async function visibleAfter(url: string, d: Workload['deltas'][number], since: number): Promise<number> {
  // In node order the query reads the node's own rows (primary key), so polling costs the collectors little.
  const path = `/api/v1/findings?node=${d.node}&check=${encodeURIComponent(d.check)}&sort=node&limit=200`;
  for (;;) {
    const page = await (await fetch(url + path)).json() as { items: Array<{ id: string; status: string }> };
    if (page.items.some((f) => f.id === d.findingId && f.status === d.status)) return performance.now() - since;
    if (performance.now() - since > 120_000) throw new Error(`change on ${d.node} not visible after 120 s`);
    await sleep(POLL_MS);
  }
}

async function runOne(store: 'sqlite' | 'postgres', replicas: number, work: Workload, pg: PostgresServer | undefined, index: number): Promise<RunResult> {
  const nats: NatsHarness = await startNats();
  const dir = tempDir('bench-scaling');
  const collectors: Collector[] = [];
  const database = store === 'postgres' ? await pg!.createDatabase(`vigil_scaling_${index}`) : undefined;
  let nc: NatsConnection | undefined;
  let closeReader: (() => Promise<void>) | undefined;
  try {
    const storeArgs = database ? ['--database-url', database] : ['--data-dir', dir.path];
    // One at a time: the first creates the schema, the stream and the consumer.
    for (let i = 0; i < replicas; i++) collectors.push(await startCollector(storeArgs, nats.url));
    const meters: Meters = {
      collectors,
      databasePid: pg ? pidByArgs(['-p', String(pg.port)]) : undefined,
      natsPid: pidByArgs(['-p', String(nats.port), '-js']),
    };
    const reader = await storedAtReader(database, dir.path);
    closeReader = reader.close;
    nc = await connect({ servers: nats.url });
    const js = nc.jetstream();
    const load0 = loadavg()[0];
    console.error(`bench scaling: ${store} × ${replicas}: ${work.fulls.length} full reports`);

    let cpu0 = cpuNow(meters);
    let t0 = performance.now();
    await publishAll(js, work.fulls);
    await waitStored(reader.storedAt, 1, work.fulls.length, 600_000, collectors);
    const full: Round = { seconds: (performance.now() - t0) / 1000, cpu: cpuSince(cpu0, cpuNow(meters)) };

    console.error(`bench scaling: ${store} × ${replicas}: ${work.deltas.length} deltas over ${CHURN_SECONDS} s`);
    cpu0 = cpuNow(meters);
    t0 = performance.now();
    const every = Math.max(1, Math.floor(work.deltas.length / LATENCY_SAMPLES));
    const gap = (CHURN_SECONDS * 1000) / Math.max(1, work.deltas.length);
    const latencies: Array<Promise<number>> = [];
    const publishing: Array<Promise<void>> = [];
    for (let i = 0; i < work.deltas.length; i++) {
      const wait = t0 + i * gap - performance.now();
      if (wait > 1) await sleep(wait);
      const d = work.deltas[i];
      const sent = performance.now();
      publishing.push(publish(js, d.node, d.seq, d.data));
      if (i % every === 0) latencies.push(visibleAfter(collectors[(i / every) % replicas].url, d, sent));
    }
    await Promise.all(publishing);
    await waitStored(reader.storedAt, 2, work.deltas.length, 300_000, collectors);
    const times = (await Promise.all(latencies)).sort((a, b) => a - b);
    const churn: Round = { seconds: (performance.now() - t0) / 1000, cpu: cpuSince(cpu0, cpuNow(meters)) };
    return {
      store: store === 'postgres' ? 'PostgreSQL' : 'SQLite', replicas, full, fullFindings: work.fulls.length * PER_NODE, churn,
      deltas: work.deltas.length, changes: work.changes, p50: percentile(times, 50), p99: percentile(times, 99),
      max: times[times.length - 1], load: [load0, loadavg()[0]],
    };
  } finally {
    await nc?.close().catch(() => undefined);
    await closeReader?.();
    for (const c of collectors) await stopCollector(c);
    await nats.cleanup();
    dir.cleanup();
  }
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const cores = (cpu: number, seconds: number): string => `${fmt(cpu, 1)} s (${fmt(cpu / seconds, 2)})`;

function render(results: RunResult[], skipped: string[]): string {
  const lines: string[] = [];
  const pg1 = results.find((r) => r.store === 'PostgreSQL' && r.replicas === 1);
  lines.push('## Scaling: collector replicas over NATS JetStream');
  lines.push('');
  lines.push(`\`npm run bench scaling\`: ${NODES.toLocaleString('en')} simulated agents publish to a real nats-server (JetStream, `
    + `file storage) as the agent does: one full report of ${PER_NODE} findings each (protobuf, msgID node:seq, ${PUBLISH_WINDOW} `
    + `publishes awaiting their PubAck at a time), then a 1% churn round as deltas (agent/diff; only nodes with a change send one), `
    + `published evenly over ${CHURN_SECONDS} s. 1, 2 and 3 real \`vigil-collector serve\` processes (built CLI, \`--nats-durable\` `
    + 'shared, `--database-url` on one real PostgreSQL 15 with default durable settings) consume them; the SQLite row is one '
    + 'collector with `--data-dir` (synchronous=FULL). findings/s: the full round, first publish until every node is stored '
    + '(polled every 100 ms straight from the database). change → visible: publish of a delta until '
    + '`GET /api/v1/findings?node=N&check=C&sort=node` on '
    + `one of the replicas (round robin) shows the new status, for ${LATENCY_SAMPLES} deltas spread over the round. CPU: seconds `
    + 'used during the full round by each side, from /proc (exited PostgreSQL backends included), with the cores that makes '
    + `in parentheses (CPU seconds / wall seconds). Machine: ${cpus().length} cores shared with other engineers' work, Node `
    + `${process.version}; load average (1 min) at the start and end of each run in the last column.`);
  lines.push('');
  lines.push('| store | replicas | full round s | findings/s | vs 1 replica | collectors CPU | database CPU | nats-server CPU | '
    + 'publisher CPU | deltas (changes) | change → visible p50 ms | p99 ms | max ms | load avg start → end |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of results) {
    const rate = r.fullFindings / r.full.seconds;
    const ratio = r.store === 'PostgreSQL' && pg1 ? `${fmt(rate / (pg1.fullFindings / pg1.full.seconds), 2)}×` : '';
    const c = r.full.cpu;
    lines.push(`| ${r.store} | ${r.replicas} | ${fmt(r.full.seconds, 1)} | ${Math.round(rate).toLocaleString('en')} | ${ratio} | `
      + `${cores(c.collectors, r.full.seconds)} | ${r.store === 'SQLite' ? '(in the collector)' : cores(c.database, r.full.seconds)} | `
      + `${cores(c.nats, r.full.seconds)} | ${cores(c.bench, r.full.seconds)} | ${r.deltas.toLocaleString('en')} `
      + `(${r.changes.toLocaleString('en')}) | ${fmt(r.p50, 0)} | ${fmt(r.p99, 0)} | ${fmt(r.max, 0)} | ${fmt(r.load[0], 1)} → ${fmt(r.load[1], 1)} |`);
  }
  lines.push('');
  for (const r of results) {
    const c = r.full.cpu;
    const busy = (c.collectors + c.database + c.nats + c.bench) / r.full.seconds;
    const db = r.store === 'SQLite' ? '' : `, PostgreSQL ${fmt(c.database / r.full.seconds, 2)}`;
    lines.push(`- ${r.store} × ${r.replicas}: this run kept ${fmt(busy, 2)} of the ${cpus().length} cores busy during the full round `
      + `(collectors ${fmt(c.collectors / r.full.seconds, 2)}${db}, nats-server ${fmt(c.nats / r.full.seconds, 2)}, publisher `
      + `${fmt(c.bench / r.full.seconds, 2)}); per finding: collectors ${fmt((c.collectors / r.fullFindings) * 1e6, 1)} µs of CPU`
      + `${r.store === 'SQLite' ? '' : `, PostgreSQL ${fmt((c.database / r.fullFindings) * 1e6, 1)} µs`}.`);
  }
  const pgRuns = results.filter((r) => r.store === 'PostgreSQL');
  if (pgRuns.length > 0) {
    // What the work costs in CPU is what the cores allow, whatever the replicas: the ceiling of this machine.
    const perFinding = (r: RunResult): number => (r.full.cpu.collectors + r.full.cpu.database + r.full.cpu.nats) / r.fullFindings;
    const least = Math.min(...pgRuns.map(perFinding));
    lines.push(`- What bounds PostgreSQL here: each finding costs ${fmt(least * 1e6, 1)} µs of CPU or more in all (collectors, `
      + `PostgreSQL, nats-server; the least of the runs), so ${cpus().length} free cores could not store more than `
      + `${Math.round(cpus().length / least).toLocaleString('en')} findings/s whatever the number of replicas; replicas add `
      + 'parallelism (one PostgreSQL backend each), not cores. Where a run kept fewer than the machine\'s cores busy, the rest '
      + 'went to the other work on the shared machine (the load average column), not to a limit of the collectors or the database.');
  }
  for (const s of skipped) lines.push(`- ${s}`);
  return lines.join('\n');
}

export async function run(): Promise<string> {
  const results: RunResult[] = [];
  const skipped: string[] = [];
  console.error(`bench scaling: encoding ${NODES} full reports and their churn deltas`);
  const work = workload();
  const wantsPostgres = RUNS.some((r) => r.store === 'postgres');
  const havePostgres = Boolean(postgresBinaries.initdb && postgresBinaries.postgres);
  if (wantsPostgres && !havePostgres) skipped.push('PostgreSQL: skipped, binaries not found (apt-get install postgresql)');
  const pg = wantsPostgres && havePostgres ? await startPostgres({ durable: true }) : undefined;
  try {
    for (const [i, r] of RUNS.entries()) {
      if (r.store === 'postgres' && !pg) continue;
      results.push(await runOne(r.store, r.replicas, work, pg, i));
    }
  } finally {
    await pg?.stop();
  }
  return render(results, skipped);
}
