// End to end: `vigil-collector serve` as a process; three node reports (a control plane, two workers, one of them
// drifted) posted over HTTP; drift and attack paths read back through REST and `vigil-collector query`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingId } from '../../../agent/evaluate/check.js';
import { NodeReportSchema, type NodeReport } from '../../../proto/report.js';
import { freePort, tempDir } from '../../harness/integration.js';
import { locateBuiltCli, REPO } from '../../harness/built-cli.js';

const READ = 'e2e-read-token-0123456789';
const REPORT = 'e2e-report-token-0123456789';
const FIXTURES = join(REPO, 'test/fixtures/reports');
const load = (name: string): NodeReport => NodeReportSchema.parse(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')));

describe('collector end to end (built CLI, three fixture reports)', () => {
  let cli: { cli: string; cleanup(): void };
  let dir: { path: string; cleanup(): void };
  let proc: ChildProcess;
  let stderr = '';
  let base: string;
  const reports = ['control-plane.json', 'worker-1.json', 'worker-2.json'].map(load);

  const get = async (path: string, token = READ): Promise<any> => {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, path).toBe(200);
    return res.json();
  };

  beforeAll(async () => {
    cli = locateBuiltCli('collector/cli.js');
    dir = tempDir('e2e');
    writeFileSync(join(dir.path, 'tokens'), `${READ} read cli\n${REPORT} report agents\n`, { mode: 0o600 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    proc = spawn(process.execPath, [cli.cli, 'serve', '--data-dir', join(dir.path, 'data'), '--http-listen', `127.0.0.1:${port}`,
      '--tokens', join(dir.path, 'tokens'), '--correlate-interval', '0s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`collector exited ${proc.exitCode}: ${stderr}`);
      const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`collector not ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const r of reports) {
      const res = await fetch(`${base}/api/v1/reports`, {
        method: 'POST', headers: { authorization: `Bearer ${REPORT}`, 'content-type': 'application/json' }, body: JSON.stringify(r),
      });
      expect(res.status).toBe(200);
    }
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    dir?.cleanup();
    cli?.cleanup();
  });

  it('the fixture reports carry the ids a scan would give them', () => {
    for (const r of reports) {
      for (const f of r.findings) expect(f.id).toBe(findingId(f.checkId, f.resource as Parameters<typeof findingId>[1]));
    }
  });

  it('shows the drifted worker', async () => {
    const drift = (await get('/api/v1/correlations?kind=drift')).items;
    expect(drift.map((c: any) => [c.nodes[0], c.evidence[0].checkId]).sort()).toEqual([['worker-2', 'cis-4.2.1'], ['worker-2', 'cis-4.2.2']]);
    const anon = drift.find((c: any) => c.evidence[0].checkId === 'cis-4.2.1');
    expect(anon).toMatchObject({ severity: 'high', title: 'worker-2 differs from the other worker nodes: Kubelet rejects anonymous requests' });
    expect(anon.evidence.map((e: any) => [e.node, e.value])).toEqual([['worker-2', true], ['worker-1', false]]);
  });

  it('shows the attack paths, each pointing at findings that exist', async () => {
    const paths = (await get('/api/v1/correlations?kind=attack-path')).items;
    expect(paths.map((c: any) => `${c.rule}@${c.nodes.join(',')}`).sort()).toEqual([
      'etcd-secrets-readable@cp-1', 'host-root-secrets@cp-1', 'kubelet-unauthenticated-exec@worker-2', 'pod-node-takeover@worker-1',
    ]);
    expect(paths.every((c: any) => c.severity === 'critical')).toBe(true);
    expect(paths.find((c: any) => c.rule === 'pod-node-takeover').title).toBe(
      'Node takeover from pod ci/runner on worker-1: privileged with /run/containerd/containerd.sock mounted');
    for (const c of paths) {
      for (const e of c.evidence) {
        const found = (await get(`/api/v1/findings?node=${e.node}&check=${encodeURIComponent(e.checkId)}`)).items;
        expect(found.map((f: any) => f.id)).toContain(e.findingId);
      }
    }
  });

  it('names the etcd peer that runs no agent', async () => {
    const coverage = (await get('/api/v1/correlations?kind=coverage')).items;
    expect(coverage.map((c: any) => c.id)).toEqual(['coverage:unmonitored-peer:etcd-2.cluster.internal']);
  });

  it('answers `vigil-collector query` at a terminal', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [cli.cli, 'query', '--url', base, 'correlations', '--kind', 'attack-path'],
        { env: { ...process.env, VIGIL_TOKEN: READ } }, (err, stdout, errOut) => (err ? reject(new Error(errOut)) : resolve(stdout)));
    });
    expect(out.split('\n')[0]).toMatch(/^SEVERITY\s+KIND\s+NODES\s+TITLE$/);
    expect(out).toContain('Unauthenticated exec on node worker-2');
    const denied = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli.cli, 'query', '--url', base, 'findings', '--limit', '0'],
        { env: { ...process.env, VIGIL_TOKEN: READ } }, (err, _o, errOut) => resolve({ code: (err as any)?.code ?? 0, stderr: errOut }));
    });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain('parameter "limit"');
  });

  it('stops cleanly on SIGTERM and logs JSON to stderr', async () => {
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; name: string });
    expect(lines.every((l) => l.name === 'vigil-collector')).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['collector listening', 'stopping', 'collector stopped']));
    expect(stderr).not.toContain(READ);
    expect(stderr).not.toContain(REPORT);
  });
});
