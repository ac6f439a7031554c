// `vigil-agent run` as a user runs it (issues 13 and 15), the built CLI in real processes against a real collector:
// argument errors are one plain line and exit 2 before any scan; a start that fails leaves nothing queued; the agent
// stops within a second of SIGTERM/SIGINT with its collector unreachable; `--once` exits 0 when the collector holds
// the snapshot and 1, saying why, when it does not within --once-timeout.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { freePort, tempDir } from '../../harness/integration.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { startCollector, waitFor, type CollectorUnderTest } from '../delivery/processes.js';

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

describe('vigil-agent run (built CLI)', () => {
  let cli: { cli: string; cleanup(): void };
  let dir: { path: string; cleanup(): void };
  let host: BuiltHost;
  let pki: TestPki;
  let collector: CollectorUnderTest;

  beforeAll(async () => {
    cli = locateBuiltCli('agent/cli.js');
    dir = tempDir('run-cli');
    host = buildHost(kubeadmControlPlane(), join(dir.path, 'host'));
    pki = createTestPki(dir.path);
    collector = await startCollector({ dataDir: join(dir.path, 'collector'), pki });
  }, 300_000);
  afterAll(async () => {
    await collector?.cleanup();
    dir?.cleanup();
    cli?.cleanup();
  });

  const hostArgs = (): string[] => ['--host-root', host.hostRoot, '--proc-root', host.procRoot];

  /** Runs the CLI to its end (or until `act` returns, for long-running ones) and reports how it ended. */
  function run(args: string[], act?: (pid: number, stderr: () => string) => Promise<void>): Promise<Exit> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const p = spawn(process.execPath, [cli.cli, ...args], { env: { ...process.env, VIGIL_LOG_LEVEL: '' } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      let acted = started;
      p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - acted }));
      const killer = setTimeout(() => p.kill('SIGKILL'), 120_000);
      p.on('exit', () => clearTimeout(killer));
      if (act) act(p.pid!, () => stderr).then(() => { acted = performance.now(); }, (err: unknown) => { p.kill('SIGKILL'); reject(err); });
    });
  }

  it('argument errors: one plain line naming the flag given, exit 2, before any scan or outbox', async () => {
    const outbox = join(dir.path, 'outbox-usage');
    const cases: Array<[string[], RegExp]> = [
      [[], /^vigil-agent: give --collector HOST:PORT or --nats-url URL\n$/],
      [['--collector', '10.0.0.5:7443'], /^vigil-agent: --collector 10\.0\.0\.5:7443: gRPC needs --tls-ca, --tls-cert and --tls-key/],
      [['--collector', '10.0.0.5:7443', '--insecure'], /^vigil-agent: --insecure is for a loopback collector, not --collector 10\.0\.0\.5:7443\n$/],
      [['--collector', '127.0.0.1:7443', '--tls-ca', '/nonexistent/ca.crt', '--tls-cert', pki.server.cert, '--tls-key', pki.server.key],
        /^vigil-agent: --tls-ca \/nonexistent\/ca\.crt: cannot read it \(ENOENT\)\n$/],
      [['--transport', 'nats', '--collector', '127.0.0.1:7443', '--insecure'], /^vigil-agent: --transport nats needs --nats-url URL\n$/],
      [['--collector', '127.0.0.1:7443', '--insecure', '--fast-interval', 'soon'], /^error: option '--fast-interval <duration>' argument 'soon' is invalid/],
      [['--collector', '127.0.0.1:7443', '--insecure', '--log-level', 'loud'], /^error: option '--log-level <level>' argument 'loud' is invalid/],
    ];
    for (const [args, message] of cases) {
      const r = await run(['run', ...hostArgs(), '--outbox-dir', outbox, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stdout).toBe('');
      expect(existsSync(outbox), args.join(' ')).toBe(false);
    }
  });

  it('a start that fails (the metrics port is taken) exits 2 and leaves nothing queued', async () => {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    try {
      const outbox = join(dir.path, 'outbox-failed-start');
      const r = await run(['run', ...hostArgs(), '--outbox-dir', outbox, '--collector', collector.grpcAddr, '--tls-ca', pki.ca,
        '--tls-cert', pki.client('cp-failed').cert, '--tls-key', pki.client('cp-failed').key, '--node-name', 'cp-failed',
        '--metrics-listen', `127.0.0.1:${port}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^vigil-agent: .*EADDRINUSE/m);
      expect(readdirSync(outbox).filter((n) => /^\d+\.json$/.test(n))).toEqual([]);
    } finally {
      taken.close();
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops within 1 s of ${signal} while the collector is unreachable`, async () => {
      const metrics = await freePort();
      const dead = await freePort();
      const r = await run(['run', ...hostArgs(), '--outbox-dir', join(dir.path, `outbox-${signal}`), '--collector', `127.0.0.1:${dead}`,
        '--insecure', '--metrics-listen', `127.0.0.1:${metrics}`], async (pid) => {
        await waitFor('the agent', async () => (await fetch(`http://127.0.0.1:${metrics}/healthz`)).ok, 60_000);
        await new Promise((res) => setTimeout(res, 1_500)); // the gRPC sender is mid-reconnect by now
        process.kill(pid, signal);
      });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
      expect(r.ms).toBeLessThan(1_000);
      expect(r.stderr).toMatch(new RegExp(`"signal":"${signal}".*"msg":"stopping"`));
    });
  }

  it('--once delivers the full snapshot and exits 0 once the collector holds it', async () => {
    const node = 'cp-once';
    const r = await run(['run', ...hostArgs(), '--once', '--node-name', node, '--outbox-dir', join(dir.path, 'outbox-once'),
      '--collector', collector.grpcAddr, '--tls-ca', pki.ca, '--tls-cert', pki.client(node).cert, '--tls-key', pki.client(node).key]);
    expect(r.code, r.stderr).toBe(0);
    const findings = await collector.findings(node);
    expect(findings.find((f) => f.checkId === 'cis-1.1.1')?.status).toBe('pass');
    expect(findings.length).toBeGreaterThan(100);
    expect(r.stderr).toMatch(/full snapshot delivered/);
  }, 60_000);

  it('--once exits 1 with a clear message when not acknowledged within --once-timeout, and keeps the snapshot', async () => {
    const dead = await freePort();
    const outbox = join(dir.path, 'outbox-once-timeout');
    const r = await run(['run', ...hostArgs(), '--once', '--once-timeout', '2s', '--node-name', 'cp-once-late', '--outbox-dir', outbox,
      '--collector', `127.0.0.1:${dead}`, '--insecure', '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vigil-agent run --once: the full snapshot of cp-once-late \(seq \d+\) was not delivered: not acknowledged within 2s by grpc \(--once-timeout 2s\); it stays in .*outbox-once-timeout for the next run\n$/);
    expect(readdirSync(outbox).filter((n) => /^\d+\.json$/.test(n))).toHaveLength(1);
  }, 60_000);
});
