// The dashboard in a real browser (Debian's Chromium through playwright-core), served by a real collector process
// (the built CLI) seeded with the fixture reports: the page, its assets and the API all come from the collector's
// own listener. Every page is checked for console errors, page errors and requests that leave the origin.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NodeReportSchema, type NodeReport, type Severity } from '../../../proto/report.js';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import { findChromium, foreignRequests, launchBrowser, openPage, type PageRecord } from '../../harness/browser.js';
import { locateBuiltCli, REPO } from '../../harness/built-cli.js';
import { describeWithDaemons, freePort, tempDir } from '../../harness/integration.js';
import { ensureDashboardBuilt, linkDashboardBeside, readManifest } from './dashboard-build.js';

const chromium = findChromium();
const FIXTURES = join(REPO, 'test/fixtures/reports');
const SOURCES = join(REPO, 'collector/dashboard');
/** VIGIL_UPDATE_SCREENSHOTS=1 writes the README's pictures into the repository; otherwise into a temp dir. */
const SCREENSHOTS = process.env.VIGIL_UPDATE_SCREENSHOTS === '1' ? join(SOURCES, 'screenshots') : undefined;
const BUNDLE_BUDGET_GZIP = 250 * 1024;
const HOUR = 3_600_000;

const load = (name: string): NodeReport => NodeReportSchema.parse(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')));

/**
 * Three days of hourly trend points ending with the cluster as it is now (the collector samples every few minutes;
 * a test does not wait hours): more failures earlier, fixed day by day. Written beside the running collector (WAL).
 */
async function seedTrend(dataDir: string, failingNow: Record<Severity, number>, openNow: Record<string, number>): Promise<void> {
  const store = new SqliteStore(dataDir);
  await store.migrate();
  try {
    const now = Math.floor(Date.now() / HOUR) * HOUR;
    for (let h = 72; h >= 0; h--) {
      const extra = (n: number): number => (h >= 48 ? n : h >= 24 ? Math.ceil(n / 2) : 0);
      const failing = { ...failingNow, critical: failingNow.critical + extra(2), high: failingNow.high + extra(3), medium: failingNow.medium + extra(4) };
      const added = extra(2) + extra(3) + extra(4);
      await store.recordTrend({ at: now - h * HOUR, failing, open: { pass: openNow.pass - added, fail: openNow.fail + added, warn: openNow.warn, skip: openNow.skip, error: openNow.error } });
    }
  } finally {
    await store.close();
  }
}

async function startCollector(cli: string, dataDir: string, extra: string[] = []): Promise<{ proc: ChildProcess; base: string; stderr: () => string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let stderr = '';
  const proc = spawn(process.execPath, [cli, 'serve', '--data-dir', dataDir, '--http-listen', `127.0.0.1:${port}`,
    '--correlate-interval', '0s', ...(extra.length ? extra : ['--no-auth'])], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`collector exited ${proc.exitCode}: ${stderr}`);
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`collector not ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, base, stderr: () => stderr };
}

async function post(base: string, report: NodeReport): Promise<void> {
  const res = await fetch(`${base}/api/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) });
  if (res.status !== 200) throw new Error(`report for ${report.node.name}: ${res.status} ${await res.text()}`);
}

describeWithDaemons('dashboard in a real browser (Chromium, real collector, seeded reports)', { chromium }, () => {
  let dir: { path: string; cleanup(): void };
  let cli: { cli: string; cleanup(): void };
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let browser: Browser;
  let shotDir: string;
  const reports = ['control-plane.json', 'worker-1.json', 'worker-2.json'].map(load)
    // Scanned now, so "changed in the last hour" has something to show.
    .map((r) => ({ ...r, scannedAt: new Date().toISOString() }));
  const api = async <T = any>(path: string): Promise<T> => (await (await fetch(collector.base + path)).json()) as T;
  const open: PageRecord[] = [];

  const page = async (hash: string, opts: Parameters<typeof openPage>[1] = {}): Promise<PageRecord> => {
    const rec = await openPage(browser, opts);
    open.push(rec);
    await rec.page.goto(`${collector.base}/${hash}`);
    return rec;
  };
  /** What every page must hold to: no console error, no page error, no request beyond its origin. */
  const expectClean = (rec: PageRecord): void => {
    expect(rec.consoleErrors, 'console errors').toEqual([]);
    expect(rec.pageErrors, 'page errors').toEqual([]);
    expect(rec.failedRequests, 'failed requests').toEqual([]);
    expect(foreignRequests(rec.requests, collector.base), 'requests leaving the origin').toEqual([]);
  };

  beforeAll(async () => {
    ensureDashboardBuilt();
    dir = tempDir('dashboard');
    shotDir = SCREENSHOTS ?? join(dir.path, 'screenshots');
    mkdirSync(shotDir, { recursive: true });
    cli = locateBuiltCli('collector/cli.js');
    linkDashboardBeside(cli.cli);
    collector = await startCollector(cli.cli, join(dir.path, 'data'));
    for (const r of reports) await post(collector.base, r);
    const summary = await api('/api/v1/summary');
    await seedTrend(join(dir.path, 'data'), summary.findings.failingBySeverity, summary.findings.open);
    browser = await launchBrowser(chromium!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (collector?.proc.exitCode === null) collector.proc.kill('SIGKILL');
    dir?.cleanup();
    cli?.cleanup();
  });

  it('overview shows every node by name and the failing count of /api/v1/summary', async () => {
    const summary = await api('/api/v1/summary');
    const failing = Object.values(summary.findings.failingBySeverity as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(failing).toBe(summary.findings.open.fail);
    const rec = await page('#/');
    const grid = rec.page.getByTestId('node-grid');
    for (const r of reports) await expect.poll(() => grid.getByText(r.node.name, { exact: true }).count()).toBe(1);
    await expect.poll(() => rec.page.getByTestId('failing-count').textContent()).toBe(String(failing));
    await expect.poll(() => rec.page.getByTestId('cluster-score').textContent()).toBe(`${(summary.score.cluster.rate * 100).toFixed(1)}%`);
    // Recent changes list the seeded failures; attack paths are listed as needing attention.
    await rec.page.locator('#changes li').first().waitFor();
    expect(await rec.page.locator('#attention').textContent()).toContain('Unauthenticated exec on node worker-2');
    // The trend from the collector's hourly points, and every node coloured by its worst failure (failingBySeverity).
    const trend = await api('/api/v1/trend');
    expect(trend.points.length).toBeGreaterThanOrEqual(73);
    await rec.page.locator('#trend canvas').first().waitFor();
    expect(await rec.page.locator('#trend .trend-plot').getAttribute('aria-label')).toBe(`Open failures per hour, ${trend.points.length} points; now ${failing}`);
    const nodes = (await api('/api/v1/nodes')).items as Array<{ name: string; failingBySeverity: Record<string, number> }>;
    for (const n of nodes) {
      const worst = ['critical', 'high', 'medium', 'low', 'info'].find((sev) => n.failingBySeverity[sev] > 0);
      if (worst) expect(await grid.getByRole('link', { name: new RegExp(`^${n.name}\\b`) }).getAttribute('class')).toContain(`sev-bg-${worst}`);
    }
    await rec.page.screenshot({ path: join(shotDir, 'overview.png'), fullPage: true });
    expectClean(rec);
  });

  it('a filter narrows the findings list and lives in the URL, so the view can be shared', async () => {
    const summary = await api('/api/v1/summary');
    const openFindings = Object.values(summary.findings.open as Record<string, number>).reduce((a, b) => a + b, 0);
    const rec = await page('#/findings');
    const rows = rec.page.locator('table.findings tr.row');
    await expect.poll(() => rows.count()).toBe(openFindings);

    await rec.page.getByRole('button', { name: 'Fail', exact: true }).click();
    await expect.poll(() => new URL(rec.page.url()).hash).toBe('#/findings?status=fail');
    await expect.poll(() => rows.count()).toBe(summary.findings.open.fail);

    await rec.page.getByLabel('Node').fill('worker-2');
    await rec.page.getByLabel('Node').press('Enter');
    const worker2Fails = (await api('/api/v1/findings?status=fail&node=worker-2')).items.length;
    expect(worker2Fails).toBeGreaterThan(0);
    expect(worker2Fails).toBeLessThan(summary.findings.open.fail);
    await expect.poll(() => rows.count()).toBe(worker2Fails);
    const shared = rec.page.url();
    expect(new URL(shared).hash).toBe('#/findings?status=fail&node=worker-2');
    expectClean(rec);

    // The same address in a new tab shows the same view.
    const again = await openPage(browser);
    open.push(again);
    await again.page.goto(shared);
    await expect.poll(() => again.page.locator('table.findings tr.row').count()).toBe(worker2Fails);
    expect(await again.page.getByRole('button', { name: 'Fail', exact: true }).getAttribute('aria-pressed')).toBe('true');
    expect(await again.page.getByLabel('Node').inputValue()).toBe('worker-2');
    expect(await again.page.locator('table.findings').textContent()).not.toContain('worker-1');
    expectClean(again);
  });

  it('a node page shows its findings with their evidence, its identity and history', async () => {
    const node = await api('/api/v1/nodes/worker-2');
    const f = node.findings.find((x: any) => x.checkId === 'cis-4.2.2');
    const rec = await page('#/nodes/worker-2');
    await rec.page.getByRole('heading', { name: 'worker-2', level: 1 }).waitFor();
    const row = rec.page.locator(`tr[data-finding="${f.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('AlwaysAllow, want set, not AlwaysAllow');
    await row.getByRole('button', { name: f.title }).click();
    const detail = rec.page.locator('.finding-detail');
    await detail.waitFor();
    const text = await detail.textContent();
    for (const part of [f.evidence.path, f.evidence.key, f.evidence.expected, f.remediation]) expect(text).toContain(part);
    expect(await rec.page.locator('#identity').textContent()).toContain('Debian GNU/Linux 12');
    await rec.page.locator('#history tbody tr').first().waitFor();
    const history = (await api('/api/v1/nodes/worker-2/history')).items;
    expect(history.length).toBeGreaterThan(0);
    expect(rec.requests.some((u) => u.includes('/api/v1/nodes/worker-2/history'))).toBe(true);
    await expect.poll(() => rec.page.locator('#history tbody tr').count()).toBe(history.length);
    expect(await rec.page.locator('#node-correlations').textContent()).toContain('Unauthenticated exec');
    await rec.page.screenshot({ path: join(shotDir, 'node.png'), fullPage: true });
    expectClean(rec);
  });

  it('draws every attack path as a graph, and the drift matrix marks the odd node', async () => {
    const paths = (await api('/api/v1/correlations?kind=attack-path')).items as any[];
    const rec = await page('#/attack-paths');
    const graphs = rec.page.locator('svg.attack-graph');
    await expect.poll(() => graphs.count()).toBe(paths.length);
    const exec = rec.page.locator('li.path-card', { hasText: 'Unauthenticated exec on node worker-2' });
    // SVG text is laid out line by line (tspans): read it as words.
    const svgText = (await exec.locator('svg tspan').allTextContents()).join(' ');
    expect(svgText).toContain('worker-2');
    expect(svgText).toContain('Kubelet authorization never AlwaysAllow');
    expect(svgText).toContain('runs commands in every pod');
    await exec.screenshot({ path: join(shotDir, 'attack-path.png') });
    expectClean(rec);

    const drift = await page('#/drift');
    const odd = drift.page.locator('table.matrix td.odd');
    await expect.poll(() => odd.count()).toBe((await api('/api/v1/correlations?kind=drift')).items.length);
    expect(await odd.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('AlwaysAllow')]));
    expectClean(drift);
  });

  it('posting a changed report updates an open overview without a reload', async () => {
    const before = (await api('/api/v1/summary')).findings.open.fail as number;
    const rec = await page('#/');
    await expect.poll(() => rec.page.getByTestId('failing-count').textContent()).toBe(String(before));
    // Pushed by the collector's event stream (GET /api/v1/events): on screen within 2 s, not at the next poll.
    const within = 2000;
    await expect.poll(() => rec.page.getByTestId('live-state').textContent()).toBe('Live');
    expect(rec.requests.filter((u) => u.endsWith('/api/v1/events'))).toHaveLength(1);

    const worker1 = reports[1];
    const changed: NodeReport = {
      ...worker1,
      scannedAt: new Date().toISOString(),
      findings: worker1.findings.map((f) => (f.checkId === 'cis-4.2.1'
        ? { ...f, status: 'fail' as const, evidence: { ...f.evidence, value: true } } : f)),
    };
    changed.summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
    for (const f of changed.findings) changed.summary[f.status]++;
    const posted = Date.now();
    await post(collector.base, changed);
    await expect.poll(() => rec.page.getByTestId('failing-count').textContent(), { timeout: within + 1000, interval: 100 }).toBe(String(before + 1));
    const shownAfter = Date.now() - posted;
    console.log(`dashboard: a posted change was on the open overview after ${shownAfter} ms`);
    expect(shownAfter).toBeLessThan(within);
    expect(rec.requests.filter((u) => u.endsWith('/')).length).toBe(1); // no reload
    expect(rec.requests.filter((u) => u.includes('/api/v1/summary')).length).toBeLessThan(4); // not polling
    expectClean(rec);
  }, 30_000);

  it('is keyboard navigable, readable on a phone and in the dark', async () => {
    const rec = await page('#/', { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    await rec.page.getByTestId('node-grid').waitFor();
    await rec.page.keyboard.press('Tab');
    expect(await rec.page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await rec.page.keyboard.press('Enter');
    expect(await rec.page.evaluate('document.activeElement.id')).toBe('main');
    // Nothing wider than the phone.
    expect(await rec.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(await rec.page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(15, 17, 21)');
    await rec.page.screenshot({ path: join(shotDir, 'overview-phone-dark.png'), fullPage: true });
    // The toggle overrides the system theme.
    await rec.page.getByRole('button', { name: /^Theme: system/ }).click();
    expect(await rec.page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    expect(await rec.page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(246, 247, 249)');
    expectClean(rec);
  });

  it('ships JS+CSS for / within the gzip budget, all from the origin', async () => {
    const rec = await openPage(browser);
    open.push(rec);
    const bodies: Array<{ url: string; bytes: Buffer }> = [];
    rec.page.on('response', (r) => {
      if (/\.(js|css)$/.test(new URL(r.url()).pathname)) void r.body().then((b) => bodies.push({ url: r.url(), bytes: b }));
    });
    const doc = await rec.page.goto(`${collector.base}/`);
    expect(doc?.headers()['content-security-policy']).toBe(readManifest().csp);
    expect(doc?.headers()['cache-control']).toBe('no-cache');
    await rec.page.getByTestId('node-grid').waitFor();
    await expect.poll(() => bodies.length).toBe(2);
    const gzip = bodies.reduce((n, b) => n + gzipSync(b.bytes, { level: 9 }).length, 0);
    console.log(`dashboard: JS+CSS shipped for / = ${(gzip / 1024).toFixed(1)} kB gzip (budget ${BUNDLE_BUDGET_GZIP / 1024} kB)`);
    expect(gzip).toBeLessThan(BUNDLE_BUDGET_GZIP);
    expect(readManifest().shippedGzipBytes).toBe(gzip);
    expectClean(rec);
  });

  it('asks for a read token when the collector wants one, and keeps it for the session', async () => {
    const readToken = 'dashboard-read-token-0123456789';
    const authDir = join(dir.path, 'auth');
    mkdirSync(authDir);
    writeFileSync(join(authDir, 'tokens'), `${readToken} read ui\n`, { mode: 0o600 });
    const guarded = await startCollector(cli.cli, join(authDir, 'data'), ['--tokens', join(authDir, 'tokens')]);
    try {
      const rec = await openPage(browser);
      open.push(rec);
      // The page needs no token; the API behind it does.
      expect((await fetch(`${guarded.base}/`)).status).toBe(200);
      expect((await fetch(`${guarded.base}/api/v1/summary`)).status).toBe(401);
      await rec.page.goto(`${guarded.base}/`);
      await rec.page.getByRole('heading', { name: 'Sign in to this collector' }).waitFor();
      await rec.page.getByLabel('Read token').fill(readToken);
      await rec.page.getByRole('button', { name: 'Sign in' }).click();
      await rec.page.getByText('No node has reported yet').waitFor();
      await rec.page.reload();
      await rec.page.getByText('No node has reported yet').waitFor();
      expect(await rec.page.getByRole('heading', { name: 'Sign in to this collector' }).count()).toBe(0);
      // The first answer before sign-in is the collector's 401, which Chromium logs; nothing else may be.
      expect(rec.consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
      expect(rec.pageErrors).toEqual([]);
      expect(foreignRequests(rec.requests, guarded.base)).toEqual([]);
      // Signed in, the live feed connects with the token.
      await expect.poll(() => rec.page.getByTestId('live-state').textContent()).toBe('Live');
    } finally {
      guarded.proc.kill('SIGKILL');
    }
  }, 60_000);

  it('lists a sensitive file that went away as resolved on its node, from the node\'s history', async () => {
    const cp = reports[0];
    const key = cp.findings.find((f) => f.resource.kind === 'file' && f.resource.path === '/etc/kubernetes/pki/apiserver.key')!;
    const without: NodeReport = { ...cp, scannedAt: new Date().toISOString(), findings: cp.findings.filter((f) => f.id !== key.id) };
    await post(collector.base, without);
    const history = (await api('/api/v1/nodes/cp-1/history')).items as Array<{ findingId: string; status: string; resolvedAt: string | null }>;
    expect(history.find((h) => h.findingId === key.id)).toMatchObject({ status: 'resolved', resolvedAt: expect.any(String) });
    const rec = await page('#/nodes/cp-1');
    const row = rec.page.locator('#files tr', { hasText: '/etc/kubernetes/pki/apiserver.key' });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Resolved.*resolved/);
    expect(await rec.page.locator('#files tr', { hasText: '/var/lib/etcd' }).textContent()).toContain('unchanged since');
    expectClean(rec);
  });
});
