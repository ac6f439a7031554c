// The dashboard (Debian's Chromium, the built collector serving it) shows cluster findings — node `cluster`, read
// from a STAND-IN Kubernetes API (no kube-apiserver runs here: test/harness/kube-api.ts answers client-node's list
// and watch requests from the objects below) — and draws the attack paths that join them with an agent's findings.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { findChromium, foreignRequests, launchBrowser, openPage, type PageRecord } from '../../harness/browser.js';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { describeWithDaemons, freePort, tempDir } from '../../harness/integration.js';
import { startKubeApi, type KubeApiStandIn, type StandInKind } from '../../harness/kube-api.js';
import { ensureDashboardBuilt, linkDashboardBeside } from '../dashboard/dashboard-build.js';
import { finding, report } from '../../unit/collector/helpers.js';
import { clusterRole, clusterRoleBinding, namespace, pod, sa, serviceAccount, type RawObjects } from '../../unit/cluster/fixtures.js';
import { eventually } from './harness.js';

const chromium = findChromium();

const API: RawObjects = {
  Namespace: [namespace('ops')],
  ServiceAccount: [serviceAccount('ops', 'deployer')],
  ClusterRole: [clusterRole('pod-maker', [{ verbs: ['create'], resources: ['pods'] }])],
  ClusterRoleBinding: [clusterRoleBinding('deployer-pods', 'pod-maker', [sa('ops', 'deployer')])],
  Pod: [pod('ops', 'agent', { serviceAccountName: 'deployer', nodeName: 'worker-1' })],
};

/** What an agent reports of a privileged container whose kernel state confirms it (shaped as the agent writes it). */
const container = { kind: 'container' as const, id: 'c0ffee', namespace: 'ops', pod: 'agent', container: 'main' };
const AGENT: Finding[] = [
  finding({ checkId: 'container-privileged', pss: 'privileged', status: 'fail', severity: 'critical', component: 'container', value: true,
    title: 'Container is not privileged', resource: container }),
  finding({ checkId: 'container-kernel-drift', status: 'pass', severity: 'high', component: 'container', resource: container,
    title: 'Kernel state of the container matches its declared spec',
    value: { capEff: ['SYS_ADMIN', 'NET_ADMIN'], noNewPrivs: false, seccomp: 0, uid: 0, sharedWithHost: [] } }),
];

describeWithDaemons('dashboard: cluster findings and API-joined attack paths (Chromium)', { chromium }, () => {
  let api: KubeApiStandIn;
  let cli: ReturnType<typeof locateBuiltCli>;
  let dir: ReturnType<typeof tempDir>;
  let proc: ChildProcess;
  let base: string;
  let browser: Browser;
  const open: PageRecord[] = [];

  const page = async (hash: string): Promise<PageRecord> => {
    const rec = await openPage(browser);
    open.push(rec);
    await rec.page.goto(`${base}/${hash}`);
    return rec;
  };
  const expectClean = (rec: PageRecord): void => {
    expect(rec.consoleErrors, 'console errors').toEqual([]);
    expect(rec.pageErrors, 'page errors').toEqual([]);
    expect(foreignRequests(rec.requests, base), 'requests leaving the origin').toEqual([]);
  };

  beforeAll(async () => {
    ensureDashboardBuilt();
    api = await startKubeApi();
    for (const [kind, list] of Object.entries(API)) for (const o of list ?? []) api.apply(kind as StandInKind, o as never);
    cli = locateBuiltCli('collector/cli.js');
    linkDashboardBeside(cli.cli);
    dir = tempDir('cluster-dashboard');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    proc = spawn(process.execPath, [cli.cli, 'serve', '--data-dir', dir.path, '--http-listen', `127.0.0.1:${port}`, '--no-auth',
      '--correlate-interval', '0s', '--kubeconfig', api.kubeconfigFile(), '--kube-context', 'stand-in'], { stdio: 'ignore' });
    await eventually('cluster findings', async () => {
      const res = await fetch(`${base}/api/v1/findings?node=cluster&check=cis-5.1.4`).catch(() => undefined);
      return res?.ok && ((await res.json()) as { items: unknown[] }).items.length > 0;
    }, 30_000);
    const posted = await fetch(`${base}/api/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...report('worker-1', AGENT), scannedAt: new Date().toISOString() }) });
    expect(posted.status).toBe(200);
    browser = await launchBrowser(chromium!);
  }, 120_000);

  afterAll(async () => {
    for (const rec of open) await rec.page.context().close().catch(() => undefined);
    await browser?.close();
    if (proc?.exitCode === null) proc.kill('SIGKILL');
    await api?.close();
    dir?.cleanup();
    cli?.cleanup();
  });

  it('lists node cluster and its findings, with the subject, binding and role they name', async () => {
    const rec = await page('#/nodes/cluster');
    await expect.poll(async () => (await rec.page.locator('body').textContent()) ?? '', { timeout: 10_000 })
      .toContain('ServiceAccount ops/deployer can create pods');
    const text = (await rec.page.locator('body').textContent()) ?? '';
    expect(text).toContain('ClusterRoleBinding deployer-pods → ClusterRole pod-maker');
    expectClean(rec);
  });

  it('draws the privileged-pod path from the agent\'s findings to the cluster\'s', async () => {
    const rec = await page('#/attack-paths');
    const card = rec.page.locator('li.path-card', { hasText: 'Pod ops/agent on worker-1 runs privileged (kernel-verified)' });
    await card.waitFor({ timeout: 10_000 });
    const svgText = (await card.locator('svg tspan').allTextContents()).join(' ');
    expect(svgText).toContain('pod ops/agent');
    expect(svgText).toContain('cis-5.1.4');
    expect(svgText).toContain('Root on worker-1 from pod ops/agent');
    const links = await card.locator('svg a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links.some((h) => h?.startsWith('#/nodes/cluster?finding=cis-5.1.4'))).toBe(true);
    expectClean(rec);
  });
});
