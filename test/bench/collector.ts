// Collector benchmark (`npm run bench collector`): 5,000 simulated nodes × 150 findings ingested as full reports,
// then a 1% churn round, into SQLite and into a real PostgreSQL; then p50/p99 of the REST queries over the result.
// VIGIL_BENCH_NODES / VIGIL_BENCH_FINDINGS shrink it for a quick run.
import { cpus, loadavg } from 'node:os';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { CollectorOptions } from '../../collector/app/options.js';
import { startCollector, type RunningCollector } from '../../collector/app/start.js';
import { loadTokens } from '../../collector/serve/auth.js';
import { SQLITE_FILE } from '../../collector/store/sqlite.js';
import { postgresBinaries, startPostgres } from '../harness/postgres.js';
import { tempDir } from '../harness/integration.js';
import { ownCpuSeconds, pidByArgs, treeCpuSeconds } from './collector-cpu.js';
import { simulatedFindings, simulatedReport } from './collector-sim.js';
import { percentile } from './processes.js';

const NODES = Number(process.env.VIGIL_BENCH_NODES ?? 5000);
const PER_NODE = Number(process.env.VIGIL_BENCH_FINDINGS ?? 150);
const CHUNK = 250;
const QUERY_RUNS = 100;
const HTTP_REPORTS = Math.min(200, NODES);
const TOKEN = 'bench-token-0123456789abcdef';
const STORES = (process.env.VIGIL_BENCH_STORES ?? 'sqlite,postgres').split(',');

/** CPU seconds of the phase: this process (the collector runs in it) and the database server (PostgreSQL). */
interface PhaseCpu { collector: number; database?: number }
interface Phase { name: string; reports: number; findings: number; seconds: number; cpu?: PhaseCpu; note?: string }
interface QueryStat { name: string; p50: number; p99: number; max: number }
interface StoreResult {
  store: string; phases: Phase[]; queries: QueryStat[]; correlateMs: number; correlations: string; size: string; load: [number, number];
}

const nodeName = (n: number): string => `node-${String(n).padStart(5, '0')}`;

/** Deterministic pseudo-random node indexes for the queries. */
function* nodePicker(): Generator<number> {
  let x = 12345;
  for (;;) { x = (x * 1103515245 + 12345) % 2 ** 31; yield x % NODES; }
}

async function ingestRound(c: RunningCollector, variant: number, seq: number, databasePid?: number): Promise<Phase> {
  let seconds = 0;
  let changed = 0;
  const cpu: PhaseCpu = { collector: 0, ...(databasePid ? { database: 0 } : {}) };
  for (let start = 0; start < NODES; start += CHUNK) {
    const reports = [];
    for (let n = start; n < Math.min(NODES, start + CHUNK); n++) reports.push(simulatedReport(n, variant, PER_NODE));
    if (variant > 0) {
      for (let n = start; n < Math.min(NODES, start + CHUNK); n++) {
        const before = simulatedFindings(n, 0, PER_NODE);
        changed += simulatedFindings(n, variant, PER_NODE).filter((f, i) => f.status !== before[i].status).length;
      }
    }
    const t = performance.now();
    const own = ownCpuSeconds();
    const db = databasePid ? treeCpuSeconds(databasePid) : 0;
    const results = await Promise.all(reports.map((report) => c.ingestor.ingest({ kind: 'full', node: report.node.name, seq, report })));
    seconds += (performance.now() - t) / 1000;
    cpu.collector += ownCpuSeconds() - own;
    if (databasePid) cpu.database! += treeCpuSeconds(databasePid) - db;
    if (results.some((r) => !r.applied)) throw new Error('a benchmark report was not applied');
  }
  const findings = NODES * PER_NODE;
  return variant === 0
    ? { name: `full reports (${NODES.toLocaleString('en')} nodes × ${PER_NODE})`, reports: NODES, findings, seconds, cpu }
    : { name: 'churn round (full reports, ~1% of findings changed)', reports: NODES, findings, seconds, cpu,
      note: `${changed.toLocaleString('en')} findings changed status (${((changed / findings) * 100).toFixed(2)}%)` };
}

async function httpRound(c: RunningCollector): Promise<Phase> {
  const bodies = Array.from({ length: HTTP_REPORTS }, (_, n) => JSON.stringify(simulatedReport(n, 2, PER_NODE)));
  const t = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await fetch(`${c.httpUrl}/api/v1/reports`, {
        method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      });
      if (res.status !== 200) throw new Error(`POST /api/v1/reports: ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return { name: `HTTP POST /api/v1/reports (${HTTP_REPORTS} reports, 4 clients)`, reports: HTTP_REPORTS, findings: HTTP_REPORTS * PER_NODE,
    seconds: (performance.now() - t) / 1000 };
}

function queries(): Array<[string, (node: string) => string]> {
  return [
    ['findings (default: open, problems first)', () => '/api/v1/findings'],
    ['findings?sort=severity', () => '/api/v1/findings?sort=severity'],
    ['findings?status=fail', () => '/api/v1/findings?status=fail'],
    ['findings?node=N', (n) => `/api/v1/findings?node=${n}`],
    ['findings?status=fail&severity=critical', () => '/api/v1/findings?status=fail&severity=critical'],
    ['findings?check=C&status=fail', () => '/api/v1/findings?check=cis-1.1.0&status=fail'],
    ['findings?cis=4.2', () => '/api/v1/findings?cis=4.2'],
    ['findings?component=etcd', () => '/api/v1/findings?component=etcd'],
    ['findings?component=etcd&sort=recent', () => '/api/v1/findings?component=etcd&sort=recent'],
    ['findings?namespace=ns-1&pod=P', (n) => `/api/v1/findings?namespace=ns-1&pod=app-${Number(n.slice(5)) % 50}-1`],
    ['findings?since=1h&sort=recent', () => '/api/v1/findings?since=1h&sort=recent'],
    ['findings?q=port', () => '/api/v1/findings?q=port'],
    ['findings?status=resolved', () => '/api/v1/findings?status=resolved'],
    ['nodes (limit 1000)', () => '/api/v1/nodes'],
    ['nodes/N', (n) => `/api/v1/nodes/${n}`],
    ['checks', () => '/api/v1/checks'],
    ['correlations (cached)', () => '/api/v1/correlations'],
    ['summary', () => '/api/v1/summary'],
  ];
}

async function timeQueries(c: RunningCollector): Promise<QueryStat[]> {
  const pick = nodePicker();
  const out: QueryStat[] = [];
  const get = async (path: string): Promise<number> => {
    const t = performance.now();
    const res = await fetch(c.httpUrl + path, { headers: { authorization: `Bearer ${TOKEN}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    return performance.now() - t;
  };
  for (const [name, path] of queries()) {
    await get(path(nodeName(0)));
    const times: number[] = [];
    for (let i = 0; i < QUERY_RUNS; i++) times.push(await get(path(nodeName(pick.next().value as number))));
    times.sort((a, b) => a - b);
    out.push({ name, p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] });
  }
  // Following a cursor: second page of the default listing.
  const first = await (await fetch(`${c.httpUrl}/api/v1/findings?status=fail`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { nextCursor: string };
  const times: number[] = [];
  for (let i = 0; i < QUERY_RUNS; i++) times.push(await get(`/api/v1/findings?status=fail&cursor=${first.nextCursor}`));
  times.sort((a, b) => a - b);
  out.push({ name: 'findings?status=fail&cursor=… (page 2)', p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] });
  return out;
}

async function benchStore(store: string, storeOptions: Partial<CollectorOptions>, size: () => string, databasePid?: number): Promise<StoreResult> {
  const options: CollectorOptions = {
    http: { host: '127.0.0.1', port: 0 },
    tokens: loadTokens(`${TOKEN} read,report bench\n`),
    retentionMs: 30 * 86_400_000,
    reportIntervalMs: 5 * 60_000,
    maxReportBytes: 32 * 1024 * 1024,
    correlateIntervalMs: 5000,
    logLevel: 'warn',
    sqliteSynchronous: 'FULL',
    ...storeOptions,
  };
  const c = await startCollector(options, { log: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    console.error(`bench collector: ${store}: ingesting ${NODES} × ${PER_NODE}`);
    const loadBefore = loadavg()[0];
    const phases = [await ingestRound(c, 0, 1, databasePid), await ingestRound(c, 1, 2, databasePid), await httpRound(c)];
    // The leader correlates in the background as reports arrive; time a full recompute on a quiet engine, then
    // the queries with no pass running (the correlation suite times passes while reports arrive).
    await c.engine.settled();
    const t = performance.now();
    const snap = await c.engine.repair();
    const correlateMs = performance.now() - t;
    await c.engine.settled();
    const kinds = ['drift', 'attack-path', 'coverage'].map((k) => `${snap.items.filter((i) => i.kind === k).length} ${k}`).join(', ');
    console.error(`bench collector: ${store}: queries`);
    const queryStats = await timeQueries(c);
    return { store, phases, queries: queryStats, correlateMs, correlations: kinds, size: size(), load: [loadBefore, loadavg()[0]] };
  } finally {
    await c.close();
  }
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function render(results: StoreResult[], skipped: string[]): string {
  const lines: string[] = [];
  lines.push('## Collector');
  lines.push('');
  lines.push(`${NODES.toLocaleString('en')} simulated nodes × ${PER_NODE} findings (CIS component settings, ports, containers), `
    + `ingested through the collector's ingest function (validation, dedupe, batched transactions), then a churn round, `
    + `then ${QUERY_RUNS} timed REST calls per query over loopback HTTP with a bearer token. `
    + `Machine: ${cpus().length} cores, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end. `
    + 'SQLite: WAL, synchronous=FULL. PostgreSQL 15: a private cluster with default (durable) settings. CPU per finding: the '
    + 'CPU seconds of the phase (this process, where the collector runs; the PostgreSQL server and its backends, from /proc) '
    + 'over its findings: what the phase costs whatever else the shared machine runs (1,000,000 / µs = findings/s on a free core).');
  lines.push('');
  lines.push('| store | phase | reports | findings | seconds | findings/s | CPU µs per finding: collector / database | note |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  const perFinding = (p: Phase): string => {
    if (!p.cpu) return '';
    const us = (s: number): string => fmt((s / p.findings) * 1e6, 1);
    return p.cpu.database === undefined ? us(p.cpu.collector) : `${us(p.cpu.collector)} / ${us(p.cpu.database)}`;
  };
  for (const r of results) {
    for (const p of r.phases) {
      lines.push(`| ${r.store} | ${p.name} | ${p.reports.toLocaleString('en')} | ${p.findings.toLocaleString('en')} | ${fmt(p.seconds, 2)} | ${Math.round(p.findings / p.seconds).toLocaleString('en')} | ${perFinding(p)} | ${p.note ?? ''} |`);
    }
  }
  lines.push('');
  lines.push(`| query | ${results.map((r) => `${r.store} p50 ms | ${r.store} p99 ms`).join(' | ')} |`);
  lines.push(`| --- | ${results.map(() => '---: | ---:').join(' | ')} |`);
  const names = results[0]?.queries.map((q) => q.name) ?? [];
  for (const name of names) {
    const cells = results.map((r) => { const q = r.queries.find((x) => x.name === name)!; return `${fmt(q.p50, 2)} | ${fmt(q.p99, 2)}`; });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const r of results) {
    const worst = Math.max(...r.queries.map((q) => q.p99));
    const full = r.phases[0];
    lines.push(`- ${r.store}: correlation recompute over the whole cluster ${fmt(r.correlateMs, 0)} ms (${r.correlations}); `
      + `served from cache afterwards. Store size ${r.size}. Worst query p99 ${fmt(worst, 1)} ms. `
      + `Load average (1 min) ${fmt(r.load[0], 1)} at its start, ${fmt(r.load[1], 1)} at its end.`
      + (r.store === 'SQLite' ? ` Goals: ingest ≥ 50,000 findings/s (${Math.round(full.findings / full.seconds).toLocaleString('en')}), `
        + `query p99 < 50 ms (${fmt(worst, 1)} ms).` : ''));
  }
  for (const s of skipped) lines.push(`- ${s}`);
  return lines.join('\n');
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

export async function run(): Promise<string> {
  const results: StoreResult[] = [];
  const skipped: string[] = [];
  const dir = tempDir('bench-sqlite');
  if (STORES.includes('sqlite')) try {
    results.push(await benchStore('SQLite', { dataDir: dir.path }, () => {
      const files = [SQLITE_FILE, `${SQLITE_FILE}-wal`].map((f) => { try { return statSync(join(dir.path, f)).size; } catch { return 0; } });
      return mb(files[0] + files[1]);
    }));
  } finally {
    dir.cleanup();
  }
  if (!STORES.includes('postgres')) {
    skipped.push('PostgreSQL: not run (VIGIL_BENCH_STORES)');
  } else if (postgresBinaries.initdb && postgresBinaries.postgres) {
    const server = await startPostgres({ durable: true });
    try {
      const url = await server.createDatabase('vigil_bench');
      let size = 'unknown';
      const result = await benchStore('PostgreSQL', { databaseUrl: url }, () => size, pidByArgs(['-p', String(server.port)]));
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      size = mb(Number((await client.query<{ s: string }>("SELECT pg_database_size('vigil_bench') AS s")).rows[0].s));
      await client.end();
      result.size = size;
      results.push(result);
    } finally {
      await server.stop();
    }
  } else {
    skipped.push('PostgreSQL: skipped, binaries not found (apt-get install postgresql)');
  }
  return render(results, skipped);
}
