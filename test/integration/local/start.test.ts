// `npm start` on this machine: a collector and an agent over loopback gRPC, the printed dashboard URL opens the
// overview of this node, the printed REST URL answers with findings, and SIGINT stops both children. Runs the built
// dist/ (npm test builds first).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium, launchBrowser, openPage } from '../../harness/browser.js';
import { freePort, tempDir } from '../../harness/integration.js';

const START = join(process.cwd(), 'dist/local/start.js');
const chromium = findChromium();
const dir = tempDir('local-start');
afterAll(() => dir.cleanup());

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe.skipIf(!existsSync(START))('npm start (local run)', () => {
  it('starts collector and agent, prints a dashboard URL that opens the overview and a REST URL that serves findings, stops both on Ctrl-C', async () => {
    const httpPort = await freePort();
    const child = spawn(process.execPath, [START], {
      env: { ...process.env, VIGIL_LOCAL_DIR: join(dir.path, '.vigil'), VIGIL_HTTP_PORT: String(httpPort), VIGIL_NODE_NAME: 'local-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('Watching for changes') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      const url = /REST API: (\S+)/.exec(out)?.[1];
      expect(url, out).toBe(`http://127.0.0.1:${httpPort}/api/v1`);
      expect(out).toMatch(/Node local-test: \d+ findings — \d+ fail/);

      const page = await (await fetch(`${url}/findings?node=local-test&limit=500`)).json() as { items: { node: string; status: string }[] };
      expect(page.items.length).toBeGreaterThan(0);
      expect(page.items.every((f) => f.node === 'local-test')).toBe(true);
      const nodes = await (await fetch(`${url}/nodes`)).json() as { items: { name: string; status: string }[] };
      expect(nodes.items).toEqual([expect.objectContaining({ name: 'local-test', status: 'reporting' })]);

      const dashboard = /Dashboard: (\S+)/.exec(out)?.[1];
      expect(dashboard, out).toBe(`http://127.0.0.1:${httpPort}/`);
      const index = await fetch(dashboard!);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await index.text()).toContain('<div id="app">');
      if (chromium) {
        // The overview opens directly (--no-auth on loopback: no token asked) and shows this node.
        const browser = await launchBrowser(chromium);
        try {
          const rec = await openPage(browser);
          await rec.page.goto(dashboard!);
          await rec.page.getByTestId('node-grid').getByText('local-test', { exact: true }).waitFor({ timeout: 15_000 });
          expect(await rec.page.getByRole('heading', { name: 'Cluster overview' }).count()).toBe(1);
          expect(rec.consoleErrors).toEqual([]);
          expect(rec.pageErrors).toEqual([]);
        } finally {
          await browser.close();
        }
      } else {
        console.warn('npm start test: no Chromium; the dashboard page was fetched, not opened in a browser');
      }

      const children = (await import('node:child_process')).execFileSync('pgrep', ['-f', join(dir.path, '.vigil')], { encoding: 'utf8' })
        .trim().split('\n').map(Number).filter((p) => p !== child.pid);
      expect(children.length).toBe(2);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(children.filter(alive)).toEqual([]);
      // Stopped by their own SIGTERM handling, not by the runner's SIGKILL fallback.
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(join(dir.path, '.vigil', 'collector.log'), 'utf8')).toContain('"msg":"collector stopped"');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
