// Dashboard benchmark (`npm run bench dashboard`): the overview's and the findings page's first render over 5,000 nodes
// × 150 findings, measured in Chromium from navigation start (goal: under 1 s each), the time a posted change takes to
// reach an open overview at that size (goal: 2 s), and the JS+CSS the page ships (goal: under 250 kB gzip).
// The collector (from dist/, serving dist/dashboard) holds the collector benchmark's simulated cluster and 30 days
// of hourly trend points. VIGIL_BENCH_NODES shrinks it for a quick run.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { startCollector, type RunningCollector } from '../../collector/app/start.js';
import { findChromium, launchBrowser, openPage } from '../harness/browser.js';
import { tempDir } from '../harness/integration.js';
import { simulatedReport } from './collector-sim.js';

const NODES = Number(process.env.VIGIL_BENCH_NODES ?? 5000);
const PER_NODE = 150;
const RUNS = 5;
const CHUNK = 250;
const HOUR = 3_600_000;
const GOAL_MS = 1000;
const LIVE_GOAL_MS = 2000;
const BUNDLE_GOAL = 250 * 1024;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number): string => `${Math.round(x).toLocaleString('en')} ms`;

let correlateMs = 0;

async function seed(c: RunningCollector): Promise<number> {
  const started = performance.now();
  for (let start = 0; start < NODES; start += CHUNK) {
    const batch = [];
    for (let n = start; n < Math.min(NODES, start + CHUNK); n++) {
      const report = simulatedReport(n, 0, PER_NODE);
      batch.push(c.ingestor.ingest({ kind: 'full', node: report.node.name, seq: 1, report }));
    }
    await Promise.all(batch);
  }
  const seconds = (performance.now() - started) / 1000;
  // The correlation pass the ingest started ends before any page is timed.
  const t = performance.now();
  await c.engine.settled();
  correlateMs = performance.now() - t;
  // 30 days of hourly points, as a collector that has run that long has.
  const summary = await (await fetch(`${c.httpUrl}/api/v1/summary`)).json() as { findings: { open: Record<string, number>; failingBySeverity: Record<string, number> } };
  const now = Math.floor(Date.now() / HOUR) * HOUR;
  for (let h = 719; h >= 0; h--) {
    const wave = Math.round(Math.sin(h / 37) * 200 + h);
    const f = summary.findings.failingBySeverity;
    await c.store.recordTrend({
      at: now - h * HOUR,
      failing: { critical: f.critical + wave, high: f.high + wave, medium: f.medium, low: f.low, info: f.info },
      open: { pass: summary.findings.open.pass, fail: summary.findings.open.fail + 2 * wave, warn: summary.findings.open.warn, skip: 0, error: 0 },
    });
  }
  return seconds;
}

interface Measured { times: number[]; api: Map<string, number[]> }

/** Opens `hash` RUNS times (after one warm-up load), each in a fresh context, until `selector` matches `count` elements. */
async function measure(browser: Browser, base: string, hash: string, selector: string, count: number): Promise<Measured> {
  const out: Measured = { times: [], api: new Map() };
  for (let i = 0; i <= RUNS; i++) {
    const rec = await openPage(browser);
    await rec.page.goto(`${base}/${hash}`);
    // A function, not a string: the page's policy forbids evaluating strings.
    await rec.page.waitForFunction(({ selector: s, count: n }) =>
      (globalThis as unknown as { document: { querySelectorAll(q: string): { length: number } } }).document.querySelectorAll(s).length === n,
    { selector, count }, { timeout: 60_000, polling: 'raf' });
    const at = await rec.page.evaluate('performance.now()') as number;
    const entries = await rec.page.evaluate(`performance.getEntriesByType('resource').map((e) => [e.name, e.duration])`) as Array<[string, number]>;
    if (rec.consoleErrors.length || rec.pageErrors.length) throw new Error(`${hash}: ${[...rec.consoleErrors, ...rec.pageErrors].join('; ')}`);
    await rec.context.close();
    if (i === 0) continue;
    out.times.push(at);
    for (const [name, duration] of entries) {
      const url = new URL(name);
      if (!url.pathname.startsWith('/api/v1/') || url.pathname === '/api/v1/events') continue;
      const key = `${url.pathname}${url.search}`;
      out.api.set(key, [...(out.api.get(key) ?? []), duration]);
    }
  }
  return out;
}

/** A changed report posted while the overview is open: ms until the failing count on screen shows it. */
async function liveChange(browser: Browser, c: RunningCollector): Promise<number[]> {
  const times: number[] = [];
  const rec = await openPage(browser);
  await rec.page.goto(`${c.httpUrl}/#/`);
  await rec.page.waitForFunction(() =>
    (globalThis as unknown as { document: { querySelector(q: string): { textContent: string } | null } }).document.querySelector('[data-testid=live-state]')?.textContent === 'Live',
  undefined, { timeout: 60_000 });
  for (let i = 1; i <= RUNS; i++) {
    const failing = await rec.page.getByTestId('failing-count').textContent();
    const report = simulatedReport(10, 0, PER_NODE);
    // Each round one more failure on node 10 (statuses of its passing findings flipped to fail).
    let flipped = 0;
    for (const f of report.findings) if (f.status === 'pass' && flipped < i) { f.status = 'fail'; flipped++; }
    const started = performance.now();
    await c.ingestor.ingest({ kind: 'full', node: report.node.name, seq: 1 + i, report });
    await rec.page.waitForFunction((before) =>
      (globalThis as unknown as { document: { querySelector(q: string): { textContent: string } | null } }).document.querySelector('[data-testid=failing-count]')?.textContent !== before,
    failing, { timeout: 30_000, polling: 50 });
    times.push(performance.now() - started);
  }
  await rec.context.close();
  return times;
}

export async function run(): Promise<string> {
  const chromium = findChromium();
  if (!chromium) return '## Dashboard\n\nNot run: no Chromium (apt-get install chromium, or VIGIL_CHROMIUM).';
  const dir = tempDir('bench-dashboard');
  const c = await startCollector({
    dataDir: dir.path, http: { host: '127.0.0.1', port: 0 }, retentionMs: 30 * 24 * HOUR, reportIntervalMs: 5 * 60_000,
    maxReportBytes: 64 * 1024 * 1024, correlateIntervalMs: 5000, logLevel: 'warn', sqliteSynchronous: 'NORMAL',
  }, { log: pino({ level: 'warn' }, pino.destination(2)) });
  let browser: Browser | undefined;
  try {
    console.error(`bench dashboard: ingesting ${NODES} × ${PER_NODE}`);
    const ingestSeconds = await seed(c);
    browser = await launchBrowser(chromium);
    console.error('bench dashboard: overview');
    const overview = await measure(browser, c.httpUrl, '#/', '[data-testid=node-grid] li, [data-testid=failing-count]', NODES + 1);
    console.error('bench dashboard: findings');
    const findings = await measure(browser, c.httpUrl, '#/findings?status=fail', 'table.findings tr.row', 100);
    console.error('bench dashboard: live change');
    const live = await liveChange(browser, c);
    const manifest = JSON.parse(readFileSync(join(process.cwd(), 'dist/dashboard/manifest.json'), 'utf8')) as { shippedGzipBytes: number };

    const met = (x: number, goal: number): string => (x < goal ? 'met' : 'MISSED');
    const row = (what: string, m: number[], goal: number, goalText: string): string =>
      `| ${what} | ${ms(median(m))} | ${ms(Math.min(...m))} – ${ms(Math.max(...m))} | ${goalText} | ${met(median(m), goal)} |`;
    const apiRows = (page: string, m: Measured): string[] =>
      [...m.api].map(([route, d]) => `| ${page} | \`${route}\` | ${ms(median(d))} | ${ms(Math.max(...d))} |`);
    return [
      '## Dashboard',
      '',
      `${NODES.toLocaleString('en')} simulated nodes × ${PER_NODE} findings (the collector benchmark's cluster, ingested in ${ingestSeconds.toFixed(1)} s; `
        + `its correlation pass done ${ms(correlateMs)} later) and 720 hourly trend points in a collector from dist/ (SQLite, --no-auth), which serves `
        + `dist/dashboard itself. Chromium (Debian, headless, through playwright-core), a fresh browser context per load, ${RUNS} timed loads after one `
        + 'warm-up; first render = performance.now() in the page (from navigation start) when every node tile and the failing count are '
        + 'on screen (overview), or the first 100 rows (findings). Live change: a report with one more failure ingested while the overview is '
        + `open, until the failing count on screen changes (server-sent events). Machine: ${availableParallelism()} cores, shared, `
        + `Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end. Command: \`npm run bench dashboard\`.`,
      '',
      '| what | median | range | goal | |',
      '| --- | ---: | ---: | --- | --- |',
      row('overview first render', overview.times, GOAL_MS, '< 1 s'),
      row('findings page first render (status=fail)', findings.times, GOAL_MS, '< 1 s'),
      row('posted change on the open overview', live, LIVE_GOAL_MS, '< 2 s'),
      `| JS+CSS shipped for / (gzip) | ${(manifest.shippedGzipBytes / 1024).toFixed(1)} kB | | < 250 kB | ${met(manifest.shippedGzipBytes, BUNDLE_GOAL)} |`,
      '',
      'What the pages asked for (browser resource timing, per request):',
      '',
      '| page | request | median | max |',
      '| --- | --- | ---: | ---: |',
      ...apiRows('overview', overview),
      ...apiRows('findings', findings),
    ].join('\n');
  } finally {
    await browser?.close();
    await c.close();
    dir.cleanup();
  }
}
