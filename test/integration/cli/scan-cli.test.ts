// `vigil-agent scan` as a user runs it: the built CLI in a child process, on fixture host trees.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeReportSchema, type NodeReport } from '../../../proto/report.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { hardenedWorker } from '../../fixtures/hosts/hardened-worker.js';
import { INSECURE_PLANTED, insecureNode } from '../../fixtures/hosts/insecure-node.js';
import { evidenceMentions, evidenceShowsMode } from '../../unit/scan/verdicts.js';
import { CONTROL_PLANE_NODE } from '../../fixtures/hosts/pki.js';
import { locateBuiltCli } from '../../harness/built-cli.js';

interface Run { code: number; stdout: string; stderr: string }

let cli: { cli: string; cleanup(): void };
function run(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [cli.cli, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
const scanArgs = (host: BuiltHost, ...rest: string[]): string[] =>
  ['scan', '--host-root', host.hostRoot, '--proc-root', host.procRoot, ...rest];

function parseReport(stdout: string): NodeReport {
  return NodeReportSchema.parse(JSON.parse(stdout));
}

describe('vigil-agent scan (built CLI)', () => {
  const hosts: BuiltHost[] = [];
  let kubeadm: BuiltHost;
  let insecure: BuiltHost;
  let hardened: BuiltHost;
  let empty: BuiltHost;

  beforeAll(() => {
    cli = locateBuiltCli('agent/cli.js');
    kubeadm = buildHost(kubeadmControlPlane());
    insecure = buildHost(insecureNode());
    hardened = buildHost(hardenedWorker());
    empty = buildHost({});
    hosts.push(kubeadm, insecure, hardened, empty);
  }, 300_000);
  afterAll(() => {
    for (const h of hosts) h.cleanup();
    cli?.cleanup();
  });

  it('--format json prints one schema-valid report on stdout and logs on stderr only', async () => {
    const r = await run(scanArgs(kubeadm, '--format', 'json', '--log-level', 'info'));
    expect(r.code, r.stderr).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.schemaVersion).toBe(1);
    expect(report.node.name).toBe(CONTROL_PLANE_NODE);
    expect(report.node.roles).toContain('control-plane');
    expect(new Set(report.findings.map((f) => f.id)).size).toBe(report.findings.length);
    const counted = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
    for (const f of report.findings) counted[f.status]++;
    expect(report.summary).toEqual(counted);
    expect(report.findings.find((f) => f.cis === '4.1.9')).toMatchObject({
      checkId: 'cis-4.1.9', status: 'fail', resource: { kind: 'file', path: '/var/lib/kubelet/config.yaml' },
    });
    // pino writes JSON lines to stderr; none of them may leak onto stdout.
    const logLines = r.stderr.trim().split('\n').filter(Boolean);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.some((l) => /scan finished/.test(l))).toBe(true);
    expect(r.stdout).not.toMatch(/"level":\s*\d+/);
  });

  it('finding ids are stable from one run to the next', async () => {
    const [a, b] = await Promise.all([run(scanArgs(kubeadm, '--format', 'json')), run(scanArgs(kubeadm, '--format', 'json'))]);
    const ids = (r: Run) => parseReport(r.stdout).findings.map((f) => f.id).sort();
    expect(ids(a)).toEqual(ids(b));
  });

  it('--only selects a CIS section prefix, and check ids and CIS ids together', async () => {
    const section = parseReport((await run(scanArgs(kubeadm, '--format', 'json', '--only', '4.2'))).stdout);
    expect(section.findings.length).toBeGreaterThanOrEqual(14);
    for (const f of section.findings) expect(f.cis ?? f.checkId, f.checkId).toMatch(/^4\.2\.|^vigil\.gather-error$/);

    const mixed = parseReport((await run(scanArgs(kubeadm, '--format', 'json', '--only', 'cis-4.2.1,1.1.12'))).stdout);
    expect([...new Set(mixed.findings.map((f) => f.checkId))].sort()).toEqual(['cis-1.1.12', 'cis-4.2.1']);
  });

  it('--fail-on high exits 1 on the insecure node and 0 on the hardened worker', async () => {
    const bad = await run(scanArgs(insecure, '--format', 'json', '--fail-on', 'high'));
    expect(bad.code, bad.stderr).toBe(1);
    const report = parseReport(bad.stdout);
    expect(report.findings.some((f) => f.status === 'fail' && (f.severity === 'high' || f.severity === 'critical'))).toBe(true);

    const good = await run(scanArgs(hardened, '--format', 'json', '--fail-on', 'high'));
    expect(good.code, good.stderr).toBe(0);
    expect(parseReport(good.stdout).summary.fail).toBe(0);
  });

  it('without --fail-on exits 0, and reports every planted misconfiguration as fail with its evidence', async () => {
    const r = await run(scanArgs(insecure, '--format', 'json'));
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    const missing = INSECURE_PLANTED.filter((p) => !report.findings.some((f) => f.cis === p.cis && f.status === 'fail' &&
      evidenceMentions(f, p.evidence) && (p.mode === undefined || evidenceShowsMode(f, p.mode))));
    expect(missing.map((p) => `${p.cis} ${p.what}`)).toEqual([]);
  });

  it('--node-name overrides the host name', async () => {
    const r = await run(scanArgs(kubeadm, '--format', 'json', '--node-name', 'renamed-7', '--only', '4.2.1'));
    expect(parseReport(r.stdout).node.name).toBe('renamed-7');
  });

  it('on a host with no Kubernetes at all: says so plainly and exits 0', async () => {
    const table = await run(scanArgs(empty, '--format', 'table'));
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/no kubernetes components (were )?found/i);
    expect(table.stdout).not.toContain('\x1b['); // no colour when stdout is not a TTY

    const json = await run(scanArgs(empty, '--format', 'json', '--fail-on', 'low'));
    expect(json.code, json.stderr).toBe(0);
    const report = parseReport(json.stdout);
    expect(report.summary.fail).toBe(0);
    expect(report.summary.error).toBe(0);
    expect(Object.keys(report.node.components ?? {})).toEqual([]);
  });

  it('rejects bad arguments with a message on stderr and nothing on stdout', async () => {
    for (const args of [['--format', 'yaml'], ['--fail-on', 'extreme']]) {
      const r = await run(scanArgs(empty, ...args));
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(/yaml|extreme|invalid|allowed|expected/i);
    }
  });

  it('prints each machine format as a single document on stdout', async () => {
    const kb = await run(scanArgs(kubeadm, '--format', 'kube-bench'));
    expect(kb.code, kb.stderr).toBe(0);
    const doc = JSON.parse(kb.stdout) as Record<string, unknown>;
    expect(JSON.stringify(doc)).toMatch(/"tests"|"Controls"/);
    const sarif = await run(scanArgs(kubeadm, '--format', 'sarif'));
    expect(sarif.code, sarif.stderr).toBe(0);
    expect(JSON.parse(sarif.stdout)).toMatchObject({ version: '2.1.0' });
    const junit = await run(scanArgs(kubeadm, '--format', 'junit'));
    expect(junit.code, junit.stderr).toBe(0);
    expect(junit.stdout.trimStart()).toMatch(/^<\?xml|^<testsuites/);
  });
});
