// Correlation benchmark (`npm run bench correlation`): 5,000 simulated nodes × 150 findings in SQLite and in a real
// PostgreSQL, then the leader's work per report: a delta changing one or two findings of one node is stored, and the
// correlator re-correlates what it touched (incremental), then the changed correlations are stored for the other
// replicas (the diff write). Against the full recompute (every input read again, every rule), which runs at
// leadership start and every --correlate-repair-interval. VIGIL_BENCH_NODES / VIGIL_BENCH_FINDINGS /
// VIGIL_BENCH_REPORTS shrink it; VIGIL_BENCH_STORES=sqlite skips PostgreSQL.
import { cpus, loadavg } from 'node:os';
import { IncrementalCorrelator } from '../../collector/correlate/incremental.js';
import type { IngestMessage } from '../../collector/store/messages.js';
import { PostgresStore } from '../../collector/store/postgres.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import type { Store } from '../../collector/store/types.js';
import type { Finding } from '../../proto/report.js';
import { tempDir } from '../harness/integration.js';
import { postgresBinaries, startPostgres } from '../harness/postgres.js';
import { simulatedFindings, simulatedReport } from './collector-sim.js';

const NODES = Number(process.env.VIGIL_BENCH_NODES ?? 5000);
const PER_NODE = Number(process.env.VIGIL_BENCH_FINDINGS ?? 150);
const REPORTS = Number(process.env.VIGIL_BENCH_REPORTS ?? 300);
const FULL_RUNS = 3;
const STORES = (process.env.VIGIL_BENCH_STORES ?? 'sqlite,postgres').split(',');
const SILENT_AFTER_MS = 15 * 60_000;

interface Stats { p50: number; p99: number; max: number }
interface Result { store: string; ingestSeconds: number; fullMs: number[]; correlations: number; update: Stats; write: Stats; pass: Stats }

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { p50: at(50), p99: at(99), max: sorted[sorted.length - 1] };
}

/** Deterministic pseudo-random numbers for which node and which finding change. */
function* picks(): Generator<number> {
  let x = 4242;
  for (;;) { x = (x * 1103515245 + 12345) % 2 ** 31; yield x; }
}

async function benchStore(name: string, store: Store): Promise<Result> {
  await store.migrate();
  const now = Date.now();
  console.error(`bench correlation: ${name}: storing ${NODES} × ${PER_NODE}`);
  const t0 = performance.now();
  for (let start = 0; start < NODES; start += 100) {
    const batch: IngestMessage[] = [];
    for (let n = start; n < Math.min(NODES, start + 100); n++) {
      const report = simulatedReport(n, 0, PER_NODE);
      batch.push({ kind: 'full', node: report.node.name, seq: 1, report });
    }
    await store.applyBatch(batch, now);
  }
  const ingestSeconds = (performance.now() - t0) / 1000;
  await store.optimize();

  console.error(`bench correlation: ${name}: full recompute ×${FULL_RUNS}`);
  const fullMs: number[] = [];
  let correlator = new IncrementalCorrelator(store, { silentAfterMs: SILENT_AFTER_MS });
  for (let i = 0; i < FULL_RUNS; i++) {
    correlator = new IncrementalCorrelator(store, { silentAfterMs: SILENT_AFTER_MS });
    const t = performance.now();
    await correlator.refresh(now);
    fullMs.push(performance.now() - t);
  }

  // The leader's state after its full recompute: what the store holds of the result (written in full once).
  const lease = store.leaderLease('bench');
  const term = (await lease.tryAcquire(now))!;
  let result = await correlator.refresh(now);
  let saved = new Map<string, string>();
  const write = async (): Promise<void> => {
    const bodies = new Map(result.items.map((c) => [c.id, JSON.stringify(c)]));
    const upserts = [...bodies].filter(([id, body]) => saved.get(id) !== body).map(([id, body]) => ({ id, body }));
    const deletes = [...saved.keys()].filter((id) => !bodies.has(id));
    if (!await store.saveCorrelations(term, { computedAt: now, ms: 0, replica: 'bench', score: result.score, upserts, deletes })) {
      throw new Error('fenced');
    }
    saved = bodies;
  };
  await write();

  console.error(`bench correlation: ${name}: ${REPORTS} reports, incremental`);
  const touched = new Set<string>();
  store.observe((changes) => { for (const n of changes.nodes) touched.add(n); });
  const seqs = new Map<number, number>();
  const random = picks();
  const update: number[] = [];
  const writes: number[] = [];
  const passes: number[] = [];
  for (let r = 0; r < REPORTS; r++) {
    const n = random.next().value % NODES;
    const seq = (seqs.get(n) ?? 1) + 1;
    seqs.set(n, seq);
    const findings = simulatedFindings(n, 0, PER_NODE);
    const upserts: Finding[] = [];
    for (let k = 0; k < 1 + (r % 2); k++) {
      const f = findings[random.next().value % findings.length];
      const status = seq % 2 === 0 ? (f.status === 'pass' ? 'fail' : 'pass') : f.status;
      upserts.push({ ...f, status, evidence: { ...f.evidence, value: `${String(f.evidence.value)}-${seq}` } });
    }
    const node = simulatedReport(n, 0, 1).node.name;
    await store.applyBatch([{ kind: 'delta', node, seq, scannedAt: new Date(now + r).toISOString(), upserts, resolved: [] }], now + r);
    const nodes = [...touched];
    touched.clear();
    const t = performance.now();
    result = await correlator.update(nodes, now + r);
    const t1 = performance.now();
    await write();
    const t2 = performance.now();
    update.push(t1 - t);
    writes.push(t2 - t1);
    passes.push(t2 - t);
  }
  await lease.release(now);
  return { store: name, ingestSeconds, fullMs, correlations: result.items.length, update: stats(update), write: stats(writes), pass: stats(passes) };
}

const ms = (n: number): string => n.toLocaleString('en', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

function render(results: Result[], skipped: string[]): string {
  const lines = ['## Correlation', ''];
  lines.push(`${NODES.toLocaleString('en')} simulated nodes × ${PER_NODE} findings (the collector benchmark's cluster: 2% of the nodes `
    + `drifted), then ${REPORTS} reports, each a delta changing one or two findings of one node (status and value). Per report, `
    + 'the leader re-correlates what the report touched (`IncrementalCorrelator.update`: the touched node\'s record, facts and '
    + 'settings, the check table, and at most once a second every node\'s last report and role set; the node rules of that node, '
    + 'the drift groups whose rows changed, unmonitored peers when listeners changed, silent nodes and the score), then stores the correlations that changed for the other replicas (fenced by its '
    + 'term). The full recompute (every input read again, every rule: at leadership start and every `--correlate-repair-interval`) '
    + `is timed ${FULL_RUNS} times. Machine: ${cpus().length} cores, Node ${process.version}, load average `
    + `${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end (the machine is shared). Command: \`npm run bench correlation\`.`);
  lines.push('');
  lines.push('| store | correlations | full recompute ms (each run) | incremental p50 / p99 / max ms | store the result p50 / p99 ms | per report in all p50 / p99 ms |');
  lines.push('| --- | ---: | --- | --- | --- | --- |');
  for (const r of results) {
    lines.push(`| ${r.store} | ${r.correlations.toLocaleString('en')} | ${r.fullMs.map((x) => ms(x)).join(', ')} | `
      + `${ms(r.update.p50)} / ${ms(r.update.p99)} / ${ms(r.update.max)} | ${ms(r.write.p50)} / ${ms(r.write.p99)} | ${ms(r.pass.p50)} / ${ms(r.pass.p99)} |`);
  }
  lines.push('');
  lines.push(`Goal: incremental correlation < 50 ms per report (p99) at 5,000 nodes. The p99 and max include the reports that also `
    + 'read every node\'s head (one a second), garbage collection, and whatever else the shared machine ran at the time (see the load '
    + `average): they are not the machine's limit. ${skipped.length ? `Skipped: ${skipped.join('; ')}.` : ''}`);
  return lines.join('\n');
}

export async function run(): Promise<string> {
  const results: Result[] = [];
  const skipped: string[] = [];
  if (STORES.includes('sqlite')) {
    const dir = tempDir('bench-correlation');
    const store = new SqliteStore(dir.path, { synchronous: 'NORMAL' });
    try {
      results.push(await benchStore('SQLite', store));
    } finally {
      await store.close();
      dir.cleanup();
    }
  }
  if (STORES.includes('postgres')) {
    if (!postgresBinaries.postgres) {
      skipped.push('PostgreSQL (not installed)');
    } else {
      const server = await startPostgres({ durable: true });
      const store = new PostgresStore(await server.createDatabase('bench_correlation'));
      try {
        results.push(await benchStore('PostgreSQL 15', store));
      } finally {
        await store.close();
        await server.stop();
      }
    }
  }
  return render(results, skipped);
}
