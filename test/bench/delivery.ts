// Delivery bench: detection latency from a file mode change on a watched fixture host to the change being
// stored at the collector (seen through its REST API), over gRPC with mTLS; and the agent's idle CPU and
// RSS with its watchers on a control-plane fixture. Real processes: the agent as shipped (dist/bin/vigil-agent.js run) and the collector.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHost } from '../fixtures/build.js';
import { kubeadmControlPlane } from '../fixtures/hosts/kubeadm-control-plane.js';
import { cpuTicks, freePort, percentile, portOpen, sleep, stopProcess as stop, until } from './processes.js';
import { createTestPki } from '../harness/mtls.js';

const ROOT = process.cwd();
const CHANGES = Number(process.env.VIGIL_BENCH_DELIVERY_CHANGES ?? 200);
const IDLE_SECONDS = Number(process.env.VIGIL_BENCH_IDLE_SECONDS ?? 60);
/** Quiet time between changes, so each is detected on its own (after the agent's confirming full gather). */
const SPACING_MS = 1_600;
const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
const NODE = 'bench-cp';
const CLK_TCK = 100;
const SMALL_HEAP_FLAGS = ['--max-semi-space-size=1'];

function collectorCommand(): string[] {
  const cli = join(ROOT, 'dist', 'collector', 'cli.js');
  const help = spawnSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8' });
  if (!/--grpc-listen/.test(help.stdout ?? '')) throw new Error(`${cli} serve has no --grpc-listen`);
  return [cli, 'serve'];
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-delivery-'));
  const procs: ChildProcess[] = [];
  try {
    const pki = createTestPki(dir);
    const host = buildHost(kubeadmControlPlane(), join(dir, 'host'));
    const [grpcPort, httpPort, metricsPort] = [await freePort(), await freePort(), await freePort()];

    const collector = spawn(process.execPath, [...collectorCommand(), '--data-dir', join(dir, 'collector'),
      '--http-listen', `127.0.0.1:${httpPort}`, '--no-auth', '--grpc-listen', `127.0.0.1:${grpcPort}`,
      '--tls-ca', pki.ca, '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--log-level', 'warn'], { stdio: 'ignore' });
    procs.push(collector);
    await until('the collector', async () => (await portOpen(grpcPort)) && portOpen(httpPort), 30_000, 100);

    const client = pki.client(NODE);
    const startAgent = (nodeFlags: string[]): ChildProcess => {
      const p = spawn(process.execPath, [...nodeFlags, join(ROOT, 'dist', 'bin', 'vigil-agent.js'), 'run', '--host-root', host.hostRoot,
        '--proc-root', host.procRoot, '--node-name', NODE, '--outbox-dir', join(dir, 'outbox'), '--collector', `127.0.0.1:${grpcPort}`,
        '--tls-ca', pki.ca, '--tls-cert', client.cert, '--tls-key', client.key, '--metrics-listen', `127.0.0.1:${metricsPort}`],
      { stdio: 'ignore', env: { ...process.env, VIGIL_LOG_LEVEL: 'warn', NODE_OPTIONS: '' } });
      procs.push(p);
      return p;
    };
    let agent = startAgent([]);

    const url = `http://127.0.0.1:${httpPort}/api/v1/findings?node=${NODE}&check=cis-1.1.1&limit=10`;
    const status = async (): Promise<string | undefined> => {
      const body = await (await fetch(url)).json() as { items: Array<{ status: string }> };
      return body.items[0]?.status;
    };
    await until('the initial report', async () => (await status()) === 'pass', 60_000, 100);
    await sleep(SPACING_MS);

    // ---- latency ----
    const latencies: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const toFail = i % 2 === 0;
      const started = performance.now();
      chmodSync(join(host.hostRoot, MANIFEST), toFail ? 0o644 : 0o600);
      await until(`change ${i + 1}`, async () => (await status()) === (toFail ? 'fail' : 'pass'), 30_000, 2);
      latencies.push(performance.now() - started);
      await sleep(SPACING_MS);
    }
    latencies.sort((a, b) => a - b);

    // ---- idle: default V8 flags, then with a small young generation (what the DaemonSet should set) ----
    const idle = async (pid: number): Promise<{ cpuPct: number; rssMean: number; rssMax: number }> => {
      await sleep(5_000);
      const rss: number[] = [];
      const ticks0 = cpuTicks(pid);
      const t0 = performance.now();
      for (let s = 0; s < IDLE_SECONDS; s++) {
        await sleep(1_000);
        rss.push(rssBytes(pid));
      }
      const cpuSeconds = (cpuTicks(pid) - ticks0) / CLK_TCK;
      return {
        cpuPct: (cpuSeconds / ((performance.now() - t0) / 1000)) * 100,
        rssMean: rss.reduce((a, b) => a + b, 0) / rss.length,
        rssMax: Math.max(...rss),
      };
    };
    const idleDefault = await idle(agent.pid!);
    await stop(agent);
    agent = startAgent(SMALL_HEAP_FLAGS);
    await until('the restarted agent', async () => (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).ok, 60_000, 100);
    const idleSmall = await idle(agent.pid!);
    const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);
    const verdict = (r: { cpuPct: number; rssMax: number }): string =>
      `CPU ${r.cpuPct < 1 ? 'met' : 'MISSED'}, RSS max ${r.rssMax / 1024 / 1024 < 80 ? 'met' : 'MISSED'}`;
    const idleRow = (label: string, r: { cpuPct: number; rssMean: number; rssMax: number }): string =>
      `| ${label} | ${r.cpuPct.toFixed(2)} % | ${mib(r.rssMean)} MiB | ${mib(r.rssMax)} MiB |`;
    const ms = (v: number): string => v.toFixed(0);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

    return [
      '## Delivery (agent → collector)',
      '',
      `Fixture: kubeadm control plane (test/fixtures/hosts/kubeadm-control-plane.ts), agent \`vigil-agent run\` with`,
      `default options over gRPC with mTLS to a collector process (SQLite), both from dist/. Machine: ${cpus().length} cores,`,
      `load average at the end ${load} (shared machine).`,
      '',
      `### Detection latency: file mode change → change stored at the collector (${CHANGES} changes)`,
      '',
      'Each change flips the mode of the kube-apiserver static pod manifest (0600 ↔ 0644), which flips CIS 1.1.1;',
      `the time runs from chmod(2) to the collector's REST API showing the new status (polled every ~2 ms).`,
      `Changes are ${SPACING_MS} ms apart so each is detected on its own.`,
      '',
      '| p50 | p90 | p99 | max | goal p99 |',
      '| --- | --- | --- | --- | --- |',
      `| ${ms(percentile(latencies, 50))} ms | ${ms(percentile(latencies, 90))} ms | ${ms(percentile(latencies, 99))} ms | ${ms(latencies[latencies.length - 1])} ms | < 500 ms |`,
      '',
      `### Agent at idle (${IDLE_SECONDS} s, watchers on, connected, default options)`,
      '',
      '| node flags | CPU (% of one core) | RSS mean | RSS max |',
      '| --- | --- | --- | --- |',
      idleRow('(none)', idleDefault),
      idleRow(`\`${SMALL_HEAP_FLAGS.join(' ')}\``, idleSmall),
      '',
      `Goals: CPU < 1 % of a core, RSS < 80 MiB. With the image's flag (second row, as Dockerfile.agent runs it): ${verdict(idleSmall)};`,
      `without it: ${verdict(idleDefault)}. The idle window holds the fast path's looks (every 500 ms) and heartbeats; the`,
      'full rescan comes every 5 minutes by default, outside the window. Most of the first row\'s extra RSS is V8\'s young',
      'generation, which the flag shrinks. The fast path section below measures the same agent on a node with 150 containers.',
    ].join('\n');
  } finally {
    for (const p of procs.reverse()) await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
}
