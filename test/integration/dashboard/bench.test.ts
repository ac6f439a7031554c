// Opt-in benchmark (VIGIL_DASHBOARD_BENCH=1; minutes of ingest): the overview's and the findings page's first render
// over 5,000 nodes × 150 findings, measured in the browser from navigation start (goal: under 1 s each).
// The collector is a real process fed the collector benchmark's simulated reports over POST /api/v1/reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedReport } from '../../bench/collector-sim.js';
import { findChromium, launchBrowser, openPage } from '../../harness/browser.js';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { freePort, tempDir } from '../../harness/integration.js';
import { serveDashboard } from './static-server.js';

const NODES = Number(process.env.VIGIL_DASHBOARD_BENCH_NODES ?? 5000);
const chromium = findChromium();
const enabled = process.env.VIGIL_DASHBOARD_BENCH === '1' && chromium !== undefined;

describe.skipIf(!enabled)(`dashboard benchmark: ${NODES} nodes × 150 findings`, () => {
  let dir: { path: string; cleanup(): void };
  let cli: { cli: string; cleanup(): void };
  let proc: ChildProcess;
  let site: { url: string; close(): Promise<void> };
  let browser: Browser;

  beforeAll(async () => {
    dir = tempDir('dashboard-bench');
    cli = locateBuiltCli('collector/cli.js');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    proc = spawn(process.execPath, [cli.cli, 'serve', '--data-dir', join(dir.path, 'data'), '--http-listen', `127.0.0.1:${port}`,
      '--no-auth', '--sqlite-sync', 'NORMAL', '--max-report-size', '64mb'], { stdio: 'ignore' });
    for (let i = 0; !(await fetch(`${base}/readyz`).then((r) => r.ok, () => false)); i++) {
      if (i > 300) throw new Error('collector not ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < NODES) {
        const n = next++;
        const res = await fetch(`${base}/api/v1/reports`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(simulatedReport(n)),
        });
        if (!res.ok) throw new Error(`node ${n}: ${res.status} ${await res.text()}`);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    console.log(`bench: ingested ${NODES} reports in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    site = await serveDashboard(base);
    browser = await launchBrowser(chromium!);
  }, 1_800_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    proc?.kill('SIGKILL');
    dir?.cleanup();
    cli?.cleanup();
  });

  /** `ready` runs in the page (a function, not a string: the page's policy forbids evaluating strings). */
  const measure = async (hash: string, ready: (arg: { selector: string; count: number }) => boolean,
    arg: { selector: string; count: number }, runs = 5): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const rec = await openPage(browser);
      await rec.page.goto(`${site.url}/${hash}`);
      await rec.page.waitForFunction(ready, arg, { timeout: 60_000, polling: 'raf' });
      times.push(await rec.page.evaluate('performance.now()') as number);
      expect(rec.consoleErrors).toEqual([]);
      await rec.context.close();
    }
    return times.sort((a, b) => a - b);
  };

  it('overview and findings first render', async () => {
    const rendered = ({ selector, count }: { selector: string; count: number }): boolean =>
      (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll(selector).length === count;
    const overview = await measure('#/', rendered, { selector: '[data-testid=node-grid] li, [data-testid=failing-count]', count: NODES + 1 });
    const findings = await measure('#/findings?status=fail', rendered, { selector: 'table.findings tr.row', count: 100 });
    const median = (xs: number[]): number => xs[Math.floor(xs.length / 2)];
    console.log(`bench: overview first render median ${median(overview).toFixed(0)} ms (runs ${overview.map((t) => t.toFixed(0)).join(', ')})`);
    console.log(`bench: findings first render median ${median(findings).toFixed(0)} ms (runs ${findings.map((t) => t.toFixed(0)).join(', ')})`);
  }, 600_000);
});
