// `vigil-agent scan --format html` in a real browser: the file opens from disk (file://), shows the same counts as
// `--format json` on the same host, its filters work offline, and it makes no request and logs no error.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renderReport } from '../../../agent/report/index.js';
import { NodeReportSchema, type NodeReport } from '../../../proto/report.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { findChromium, launchBrowser, openPage } from '../../harness/browser.js';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { describeWithDaemons, tempDir } from '../../harness/integration.js';
import { HOSTILE, hostileReport } from './hostile-report.js';

const chromium = findChromium();

function scan(cli: string, host: BuiltHost, format: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, 'scan', '--host-root', host.hostRoot, '--proc-root', host.procRoot, '--format', format],
      { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

describeWithDaemons('vigil-agent scan --format html in a real browser', { chromium }, () => {
  let cli: { cli: string; cleanup(): void };
  let host: BuiltHost;
  let dir: { path: string; cleanup(): void };
  let browser: Browser;
  let json: NodeReport;
  let htmlFile: string;

  beforeAll(async () => {
    cli = locateBuiltCli('agent/cli.js');
    host = buildHost(kubeadmControlPlane());
    dir = tempDir('html-report');
    const [jsonOut, htmlOut] = await Promise.all([scan(cli.cli, host, 'json'), scan(cli.cli, host, 'html')]);
    json = NodeReportSchema.parse(JSON.parse(jsonOut));
    htmlFile = join(dir.path, 'report.html');
    writeFileSync(htmlFile, htmlOut);
    browser = await launchBrowser(chromium!);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    host?.cleanup();
    dir?.cleanup();
    cli?.cleanup();
  });

  it('opens from a file and shows the same counts as --format json, with no request and no error', async () => {
    const rec = await openPage(browser);
    const url = pathToFileURL(htmlFile).href;
    await rec.page.goto(url);
    const { page } = rec;
    expect(await page.getByTestId('node-name').textContent()).toBe(json.node.name);
    for (const s of ['pass', 'fail', 'warn', 'skip', 'error'] as const) {
      expect(await page.locator(`[data-count="${s}"]`).textContent(), s).toBe(String(json.summary[s]));
    }
    expect(await page.locator('tr.f').count()).toBe(json.findings.length);
    expect(await page.locator('#shown').textContent()).toBe(String(json.findings.length));
    const components = await page.locator('section.group').evaluateAll((els) => els.map((e) => e.getAttribute('data-component')));
    expect(components.sort()).toEqual([...new Set(json.findings.map((f) => f.component))].sort());

    // A failing finding opens to its evidence and remediation.
    const failing = json.findings.find((f) => f.status === 'fail' && f.evidence.key)!;
    const row = page.locator('tr.f', { hasText: failing.title }).first();
    await row.locator('summary').click();
    await expect.poll(() => row.locator('dd').allTextContents()).toContain(failing.evidence.key);
    expect(await row.textContent()).toContain(failing.remediation.slice(0, 30));

    expect(rec.requests).toEqual([url]);
    expect(rec.consoleErrors).toEqual([]);
    expect(rec.pageErrors).toEqual([]);
    await rec.context.close();
  });

  it('filters by status, severity and text without a network', async () => {
    const rec = await openPage(browser);
    await rec.page.goto(pathToFileURL(htmlFile).href);
    const { page } = rec;
    const visibleRows = (): Promise<number> => page.locator('tr.f:visible').count();

    await page.getByRole('button', { name: 'Fail', exact: true }).click();
    expect(await visibleRows()).toBe(json.summary.fail);
    expect(await page.locator('#shown').textContent()).toBe(String(json.summary.fail));

    await page.getByRole('button', { name: 'Critical', exact: true }).click();
    const failCritical = json.findings.filter((f) => f.status === 'fail' && f.severity === 'critical').length;
    expect(await visibleRows()).toBe(failCritical);

    await page.getByRole('button', { name: 'Fail', exact: true }).click();
    await page.getByRole('button', { name: 'Critical', exact: true }).click();
    const term = 'kubelet';
    await page.getByRole('searchbox').fill(term);
    const matching = await page.locator('tr.f').evaluateAll((rows, t) => rows.filter((r) => (r.getAttribute('data-text') ?? '').includes(t)).length, term);
    expect(matching).toBeGreaterThan(0);
    expect(await visibleRows()).toBe(matching);
    // Groups with nothing left to show are hidden.
    expect(await page.locator('section.group:visible').count()).toBeLessThan(await page.locator('section.group').count());

    await page.getByRole('searchbox').fill('no-such-finding-anywhere');
    expect(await visibleRows()).toBe(0);
    expect(await page.getByText('No finding matches these filters.').isVisible()).toBe(true);

    expect(rec.requests).toHaveLength(1);
    expect(rec.consoleErrors).toEqual([]);
    await rec.context.close();
  });

  it('shows hostile host data as text: nothing it carries runs', async () => {
    const file = join(dir.path, 'hostile.html');
    writeFileSync(file, renderReport('html', hostileReport()));
    const rec = await openPage(browser);
    const dialogs: string[] = [];
    rec.page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await rec.page.goto(pathToFileURL(file).href);
    await rec.page.locator('summary').first().click();
    expect(await rec.page.locator('main').textContent()).toContain(`Container ${HOSTILE} is privileged`);
    expect(await rec.page.locator('main img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    // An escaping mistake would surface here as a content-security-policy violation.
    expect(rec.consoleErrors).toEqual([]);
    expect(rec.pageErrors).toEqual([]);
    expect(rec.requests).toHaveLength(1);
    await rec.context.close();
  });
});
