// Bench (issue 12): every change within a second, on a lean agent. Real processes from dist/: `vigil-agent run` and
// `vigil-collector serve` (SQLite, gRPC with mTLS), a real containerd for the container row. Each latency runs from the
// change on the host to the collector's REST API showing it (polled every ~5 ms):
// - a new listener on 0.0.0.0 (the real /proc), at a random moment relative to the agent's fast path (500 ms);
// - a new privileged container started through the real containerd (from the StartContainer call);
// - kube-apiserver restarted with a changed flag: the fixture's process swapped for one with a new pid and argv;
// - a chmod of a watched file;
// then an idle agent on a node of 150 containers and 500 sockets with every watcher and the fast path on, and
// `vigil-agent scan --format json` as a whole process against `node -e 0`. The agent is the bundle package.json's bin
// and the image run (dist/bin/vigil-agent.js); tsc's dist/agent/cli.js is timed beside it for comparison.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHost } from '../fixtures/build.js';
import { KUBEADM_PIDS, kubeadmControlPlane } from '../fixtures/hosts/kubeadm-control-plane.js';
import { kubeadmApiserverFlags } from '../fixtures/hosts/kubeadm.js';
import { containerHeavyNode } from './containers.js';
import { cpuTicks, freePort, percentile, portOpen, sleep, stopProcess as stop, until } from './processes.js';
import { containerdBinaries, startContainerd, TEST_IMAGE, type ContainerdHarness } from '../harness/containerd.js';
import { createTestPki, type TestPki } from '../harness/mtls.js';

const ROOT = process.cwd();
const AGENT = join(ROOT, 'dist', 'bin', 'vigil-agent.js');
/** The same CLI unbundled, as tsc emits it: ~300 modules loaded one by one. */
const AGENT_UNBUNDLED = join(ROOT, 'dist', 'agent', 'cli.js');
const COLLECTOR = join(ROOT, 'dist', 'collector', 'cli.js');
const TRIALS = Number(process.env.VIGIL_BENCH_FASTPATH_TRIALS ?? 20);
const IDLE_SECONDS = Number(process.env.VIGIL_BENCH_IDLE_SECONDS ?? 60);
const SCAN_RUNS = Number(process.env.VIGIL_BENCH_SCAN_RUNS ?? 20);
const CLK_TCK = 100;
const SMALL_HEAP = ['--max-semi-space-size=1'];
/** V8 without its optimizing compilers: less code memory, slower hot loops (the agent has few). */
const LITE = ['--max-semi-space-size=1', '--lite-mode'];
const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

const median = (xs: number[]): number => percentile(xs, 50);

/** Resident bytes, and the anonymous part of them (the process's own; the rest is mostly the node binary's pages). */
function rssBytes(pid: number): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), anon: kib('RssAnon') };
}

interface Finding { id: string; checkId: string; status: string; title: string; resolvedAt?: string | null; resource: Record<string, unknown> }

interface Rig {
  dir: string;
  pki: TestPki;
  grpc: number;
  http: number;
  procs: ChildProcess[];
}

async function findings(rig: Rig, node: string, check: string): Promise<Finding[]> {
  const res = await fetch(`http://127.0.0.1:${rig.http}/api/v1/findings?node=${node}&check=${check}&limit=1000`);
  return ((await res.json()) as { items: Finding[] }).items;
}

function startAgent(rig: Rig, node: string, args: string[], nodeFlags: string[] = [], env: Record<string, string> = {}): ChildProcess {
  const client = rig.pki.client(node);
  const p = spawn(process.execPath, [...nodeFlags, AGENT, 'run', '--node-name', node, '--outbox-dir', join(rig.dir, `outbox-${node}`),
    '--collector', `127.0.0.1:${rig.grpc}`, '--tls-ca', rig.pki.ca, '--tls-cert', client.cert, '--tls-key', client.key, ...args],
  { stdio: 'ignore', env: { ...process.env, VIGIL_LOG_LEVEL: 'warn', NODE_OPTIONS: '', ...env } });
  rig.procs.push(p);
  return p;
}

const ms = (v: number): string => `${v.toFixed(0)} ms`;
const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');

interface LatencyRow { what: string; trials: number[]; goalMs: number; note?: string }

function latencyLine(r: LatencyRow): string {
  if (r.trials.length === 0) return `| ${r.what} | – | – | – | – | < ${r.goalMs} ms | not run: ${r.note ?? ''} |`;
  const p99 = percentile(r.trials, 99);
  return `| ${r.what} | ${ms(median(r.trials))} | ${ms(percentile(r.trials, 90))} | ${ms(p99)} | ${r.trials.length} | < ${r.goalMs} ms | ${verdict(p99 < r.goalMs)}${r.note ? `: ${r.note}` : ''} |`;
}

// ---- a new listener ----

async function listenerTrials(rig: Rig, fastInterval?: string): Promise<number[]> {
  const node = `bench-listener-${fastInterval ?? 'default'}`.replace(/[^a-z0-9-]/g, '');
  const host = buildHost({}, join(rig.dir, `host-${node}`));
  const agent = startAgent(rig, node, ['--host-root', host.hostRoot, '--proc-root', '/proc', '--rescan-interval', '10m',
    ...(fastInterval ? ['--fast-interval', fastInterval] : [])]);
  try {
    await until('the listener agent', async () => (await findings(rig, node, 'port-listener')).length > 0, 60_000, 100);
    const out: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      await sleep(300 + Math.random() * 1_000); // a random moment relative to the fast path's ticks
      const server: Server = createServer((s) => s.destroy());
      await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
      const port = (server.address() as { port: number }).port;
      const started = performance.now();
      const shows = async (): Promise<boolean> => (await findings(rig, node, 'port-listener'))
        .some((f) => f.title.includes(`0.0.0.0:${port}`));
      await until(`listener ${port}`, shows, 30_000, 5);
      out.push(performance.now() - started);
      await new Promise<void>((r) => server.close(() => r()));
      await until(`listener ${port} resolved`, async () => !(await shows()), 30_000, 20);
    }
    return out;
  } finally {
    await stop(agent);
  }
}

// ---- kube-apiserver swapped, and chmod, on the kubeadm fixture ----

async function fixtureTrials(rig: Rig): Promise<{ swap: number[]; chmod: number[] }> {
  const node = 'bench-fixture';
  const host = buildHost(kubeadmControlPlane(), join(rig.dir, 'host-fixture'));
  const agent = startAgent(rig, node, ['--host-root', host.hostRoot, '--proc-root', host.procRoot, '--rescan-interval', '10m']);
  const status = async (check: string): Promise<string | undefined> => (await findings(rig, node, check))[0]?.status;
  try {
    await until('the fixture agent', async () => (await status('cis-1.2.15')) === 'fail', 60_000, 100);
    await sleep(1_500);
    const swap: number[] = [];
    let pid: number = KUBEADM_PIDS['kube-apiserver'];
    for (let i = 0; i < TRIALS; i++) {
      await sleep(300 + Math.random() * 1_000);
      const profilingOff = i % 2 === 0;
      const next = 20_000 + i;
      // The restart: the old process gone, a new one (new pid) with the changed flag.
      const dir = join(host.procRoot, String(next));
      mkdirSync(dir);
      writeFileSync(join(dir, 'cmdline'), ['kube-apiserver', ...kubeadmApiserverFlags(), ...(profilingOff ? ['--profiling=false'] : [])]
        .map((a) => `${a}\0`).join(''));
      writeFileSync(join(dir, 'comm'), 'kube-apiserver\n');
      const started = performance.now();
      rmSync(join(host.procRoot, String(pid)), { recursive: true, force: true });
      pid = next;
      await until(`swap ${i}`, async () => (await status('cis-1.2.15')) === (profilingOff ? 'pass' : 'fail'), 30_000, 5);
      swap.push(performance.now() - started);
    }
    await sleep(1_500);
    const chmod: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const toFail = i % 2 === 0;
      const started = performance.now();
      chmodSync(join(host.hostRoot, MANIFEST), toFail ? 0o644 : 0o600);
      await until(`chmod ${i}`, async () => (await status('cis-1.1.1')) === (toFail ? 'fail' : 'pass'), 30_000, 5);
      chmod.push(performance.now() - started);
      await sleep(1_600); // past the confirming full gather, so each change is seen on its own
    }
    return { swap, chmod };
  } finally {
    await stop(agent);
    host.cleanup();
  }
}

// ---- a privileged container through the real containerd ----

async function containerTrials(rig: Rig): Promise<{ fromCall: number[]; fromReturn: number[]; skipped?: string }> {
  const missing = Object.entries(containerdBinaries()).filter(([, p]) => !p).map(([k]) => k);
  if (missing.length > 0 || process.getuid?.() !== 0) return { fromCall: [], fromReturn: [], skipped: `missing ${missing.join(', ') || 'root'}` };
  const h: ContainerdHarness = await startContainerd();
  const node = 'bench-containers';
  const agent = startAgent(rig, node, ['--host-root', '/', '--proc-root', '/proc', '--containerd-state-dir', h.state,
    '--cri-socket', h.socket, '--rescan-interval', '10m']);
  const privileged = { privileged: true, namespace_options: { network: 'NODE', pid: 'NODE', ipc: 'NODE' } };
  try {
    await until('the containers agent', async () => (await findings(rig, node, 'port-listener')).length > 0, 90_000, 100);
    await sleep(2_000); // the event subscription
    const fromCall: number[] = [];
    const fromReturn: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const name = `priv-${i}`;
      const logDir = join(h.dir, 'logs', name);
      mkdirSync(logDir, { recursive: true });
      const sandboxConfig = { metadata: { name, namespace: 'bench', uid: randomUUID(), attempt: 0 }, log_directory: logDir,
        linux: { security_context: privileged } };
      const { pod_sandbox_id: sandboxId } = await h.cri.call('RunPodSandbox', { config: sandboxConfig }, 60_000);
      const { container_id: id } = await h.cri.call('CreateContainer', { pod_sandbox_id: sandboxId, sandbox_config: sandboxConfig,
        config: { metadata: { name: 'shell' }, image: { image: TEST_IMAGE }, command: ['/bin/sleep', '3600'], log_path: 'shell.log',
          linux: { security_context: privileged } } }, 60_000);
      await sleep(1_200); // the sandbox's own events settle
      const started = performance.now();
      await h.cri.call('StartContainer', { container_id: id }, 60_000);
      const returned = performance.now();
      await until(`container ${name}`, async () => (await findings(rig, node, 'container-privileged'))
        .some((f) => f.status === 'fail' && f.resource.pod === name), 30_000, 5);
      fromCall.push(performance.now() - started);
      fromReturn.push(performance.now() - returned);
      await h.cri.call('StopPodSandbox', { pod_sandbox_id: sandboxId }, 60_000);
      await h.cri.call('RemovePodSandbox', { pod_sandbox_id: sandboxId }, 60_000);
    }
    return { fromCall, fromReturn };
  } finally {
    await stop(agent);
    await h.stop();
  }
}

// ---- idle on a node of 150 containers and 500 sockets ----

interface Idle { cpuPct: number; rssMean: number; rssMax: number; anonMax: number }

async function idleAgent(rig: Rig, label: string, nodeFlags: string[], env: Record<string, string> = {}, args: string[] = []): Promise<Idle> {
  const spec = containerHeavyNode(75, 500);
  const host = buildHost(spec, join(rig.dir, `host-idle-${label}`));
  // Socket ownership: each container process holds some of the sockets (the scan walks their fds).
  const pids = (spec.procs ?? []).map((p) => p.pid);
  for (let i = 0; i < 500; i++) {
    const fd = join(host.procRoot, String(pids[i % pids.length]), 'fd');
    mkdirSync(fd, { recursive: true });
    symlinkSync(`socket:[${500_000 + i}]`, join(fd, String(3 + Math.floor(i / pids.length))));
  }
  const node = `bench-idle-${label}`;
  const metrics = await freePort();
  const agent = startAgent(rig, node, ['--host-root', host.hostRoot, '--proc-root', host.procRoot, '--metrics-listen', `127.0.0.1:${metrics}`,
    ...args], nodeFlags, env);
  try {
    await until('the idle agent', async () => (await fetch(`http://127.0.0.1:${metrics}/healthz`)).ok, 60_000, 100);
    await sleep(5_000);
    const rss: number[] = [];
    const anon: number[] = [];
    const ticks0 = cpuTicks(agent.pid!);
    const t0 = performance.now();
    for (let s = 0; s < IDLE_SECONDS; s++) {
      await sleep(1_000);
      const r = rssBytes(agent.pid!);
      rss.push(r.rss);
      anon.push(r.anon);
    }
    const cpuSeconds = (cpuTicks(agent.pid!) - ticks0) / CLK_TCK;
    return { cpuPct: (cpuSeconds / ((performance.now() - t0) / 1000)) * 100, rssMean: rss.reduce((a, b) => a + b, 0) / rss.length, rssMax: Math.max(...rss),
      anonMax: Math.max(...anon) };
  } finally {
    await stop(agent);
    host.cleanup();
  }
}

// ---- whole processes: scan, --help, node -e 0 ----

interface ProcessRun { wallMs: number; cpuMs: number; rssKiB: number }

function timed(args: string[]): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, ...args], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, VIGIL_LOG_LEVEL: '' } },
      (err, _stdout, stderr) => {
        if (err) { reject(new Error(`${args.join(' ')}: ${err.message}\n${stderr}`)); return; }
        const [wall, user, sys, rss] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
        resolve({ wallMs: wall * 1000, cpuMs: (user + sys) * 1000, rssKiB: rss });
      });
  });
}

async function wholeProcesses(): Promise<Record<'node' | 'scan' | 'scanUnbundled' | 'help', ProcessRun[]>> {
  const out: Record<'node' | 'scan' | 'scanUnbundled' | 'help', ProcessRun[]> = { node: [], scan: [], scanUnbundled: [], help: [] };
  for (let i = 0; i < 2; i++) { await timed(['-e', '0']); await timed([AGENT, 'scan', '--format', 'json']); } // warm the page cache
  // Interleaved, so the machine's load falls on all three alike.
  for (let i = 0; i < SCAN_RUNS; i++) {
    out.node.push(await timed(['-e', '0']));
    out.scan.push(await timed([AGENT, 'scan', '--format', 'json']));
    out.scanUnbundled.push(await timed([AGENT_UNBUNDLED, 'scan', '--format', 'json']));
    out.help.push(await timed([AGENT, '--help']));
  }
  return out;
}

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-fastpath-'));
  const rig: Rig = { dir, pki: createTestPki(dir), grpc: await freePort(), http: await freePort(), procs: [] };
  try {
    const collector = spawn(process.execPath, [COLLECTOR, 'serve', '--data-dir', join(dir, 'collector'), '--http-listen', `127.0.0.1:${rig.http}`,
      '--no-auth', '--grpc-listen', `127.0.0.1:${rig.grpc}`, '--tls-ca', rig.pki.ca, '--tls-cert', rig.pki.server.cert,
      '--tls-key', rig.pki.server.key, '--log-level', 'warn'], { stdio: 'ignore' });
    rig.procs.push(collector);
    await until('the collector', async () => (await portOpen(rig.grpc)) && portOpen(rig.http), 30_000, 100);

    console.error('bench fastpath: listeners');
    const listener = await listenerTrials(rig);
    console.error('bench fastpath: listeners, --fast-interval 1s');
    const listenerSlow = await listenerTrials(rig, '1s');
    console.error('bench fastpath: fixture swap and chmod');
    const fixture = await fixtureTrials(rig);
    console.error('bench fastpath: containers');
    const containers = await containerTrials(rig);
    console.error('bench fastpath: idle');
    const idleDefault = await idleAgent(rig, 'default', []);
    const idleSmall = await idleAgent(rig, 'small', SMALL_HEAP);
    const idleLite = await idleAgent(rig, 'lite', LITE, { MALLOC_ARENA_MAX: '2' });
    const idleOften = await idleAgent(rig, 'often', SMALL_HEAP, {}, ['--rescan-interval', '30s']);
    await stop(collector);
    console.error('bench fastpath: whole processes');
    const whole = await wholeProcesses();

    const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);
    const idleRow = (label: string, r: Idle): string => `| ${label} | ${r.cpuPct.toFixed(2)} % | ${mib(r.rssMean)} MiB | ${mib(r.rssMax)} MiB `
      + `| ${mib(r.anonMax)} MiB | CPU ${verdict(r.cpuPct < 1)}, RSS ${verdict(r.rssMax < 64 * 1024 * 1024)} |`;
    const med = (xs: ProcessRun[], k: keyof ProcessRun): number => median(xs.map((x) => x[k]));
    const ratio = med(whole.scan, 'wallMs') / med(whole.node, 'wallMs');
    const cpuRatio = med(whole.scan, 'cpuMs') / med(whole.node, 'cpuMs');
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const processRow = (label: string, xs: ProcessRun[]): string =>
      `| ${label} | ${ms(med(xs, 'wallMs'))} | ${ms(percentile(xs.map((x) => x.wallMs), 90))} | ${ms(med(xs, 'cpuMs'))} | ${(med(xs, 'rssKiB') / 1024).toFixed(1)} MiB |`;

    return [
      '## Fast path: every change within a second, on a lean agent',
      '',
      `Real processes from dist/: \`vigil-agent run\` as package.json's bin and the image run it (the bundle, dist/bin/vigil-agent.js;`,
      `default options unless a row says otherwise: --fast-interval 500ms, and --rescan-interval 10m so that only the fast path, the`,
      `watchers and the events can see a change) and \`vigil-collector serve\` (SQLite, gRPC with mTLS); each latency runs from the`,
      `change on the host to the collector's REST API showing it (polled every ~5 ms).`,
      `Machine: ${cpus().length} cores, Node ${process.version}, load average at the end ${load} (a shared machine); ${new Date().toISOString().slice(0, 10)}.`,
      `Command: \`npm run bench fastpath\`.`,
      '',
      '| change → stored at the collector | p50 | p90 | p99 | trials | goal p99 | |',
      '| --- | ---: | ---: | ---: | ---: | --- | --- |',
      latencyLine({ what: 'new listener on 0.0.0.0 (real /proc), at a random moment', trials: listener, goalMs: 1_000,
        note: 'the probe runs every 500 ms, so the wait for it is up to 0.5 s' }),
      latencyLine({ what: '… the same with `--fast-interval 1s` (the default before)', trials: listenerSlow, goalMs: 1_000 }),
      latencyLine({ what: 'privileged container started through the real containerd (from the StartContainer call)', trials: containers.fromCall,
        goalMs: 1_000, note: containers.skipped }),
      latencyLine({ what: '… from StartContainer returning', trials: containers.fromReturn, goalMs: 1_000, note: containers.skipped }),
      latencyLine({ what: 'kube-apiserver restarted with a changed flag (fixture process swapped: new pid, new argv)', trials: fixture.swap, goalMs: 1_500 }),
      latencyLine({ what: 'chmod of a watched file (static pod manifest)', trials: fixture.chmod, goalMs: 500 }),
      '',
      `### Idle agent (${IDLE_SECONDS} s, from 5 s after it is ready): 150 workload containers + 75 sandboxes, 500 sockets, every watcher and the fast path on`,
      '',
      'Connected to the collector, default options (--fast-interval 500ms, --rescan-interval 5m) unless the row says otherwise.',
      'RSS includes the node binary\'s own pages (file-backed, shared); anon max is the process\'s own memory.',
      '',
      '| node flags | CPU (% of one core) | RSS mean | RSS max | anon max | goal: < 1 %, RSS max < 64 MiB |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
      idleRow('(none)', idleDefault),
      idleRow(`\`${SMALL_HEAP.join(' ')}\` (the image's entrypoint)`, idleSmall),
      idleRow(`\`${LITE.join(' ')}\`, MALLOC_ARENA_MAX=2`, idleLite),
      idleRow(`\`${SMALL_HEAP.join(' ')}\` and \`--rescan-interval 30s\` (the default before)`, idleOften),
      '',
      `### Whole processes on this host (${SCAN_RUNS} runs each, interleaved)`,
      '',
      '| command | wall p50 | wall p90 | CPU p50 | RSS p50 |',
      '| --- | ---: | ---: | ---: | ---: |',
      processRow('`node -e 0`', whole.node),
      processRow('`vigil-agent scan --format json` (the bundle)', whole.scan),
      processRow('… unbundled (tsc\'s dist/agent/cli.js)', whole.scanUnbundled),
      processRow('`vigil-agent --help`', whole.help),
      '',
      `Scan / \`node -e 0\`: ${ratio.toFixed(2)}× wall, ${cpuRatio.toFixed(2)}× CPU (medians); goal ≤ 2.5× — ${verdict(ratio <= 2.5)}.`,
      '',
      '### Goals, and where one is missed, why',
      '',
      '- **New listener.** A listener opened at a random moment waits for the next probe (every 500 ms by default), then',
      '  for the socket re-gather (the /proc/*/fd walk that finds its owner), the judging, the delivery and the store. The',
      '  probe reads the kernel\'s socket counters every tick and the tables (/proc/net/tcp walks the whole connection hash:',
      '  0.7–3.5 ms per read on this VM, even nearly empty) only when a counter moved, and at least every second. The',
      '  floor was 10 s and the counters only `inuse`: a listener that came as another socket went (the machine is shared,',
      '  and so is its network namespace) then waited for the floor: 9.7 s, once in the 20 trials of the first run today.',
      '  The 1 s floor bounds that case to about 1.3 s; reading the four tables costs ~1.8 ms here, so ~0.2 % of a core on',
      '  a host whose counters stand still. With the old default of 1 s between probes the goal is missed (second row).',
      '- **Idle CPU.** Met with the defaults. Most of the CPU before was the periodic full rescan (last row: the old',
      '  `--rescan-interval 30s` re-gathers all 225 containers and 500 sockets twice a minute); the fast path, the',
      '  watchers and the events see every change, so the full rescan is a safety net every 5 minutes. On this fixture',
      '  node (no sockstat) the probe hashes the 500-socket tables every tick: the remaining CPU is that and its garbage.',
      '- **RSS: missed.** About 42 MiB of an idle agent\'s RSS are the node binary\'s own pages (file-backed, shared with',
      '  every node process: `node -e 0` alone is 39 MiB here); the goal leaves the agent ~21 MiB of its own, and its',
      '  anonymous memory peaks at 41–77 MiB (the column). Measured on the idle agent: V8\'s heap holds ~16 MB live',
      '  after the first scan (heap snapshot: 5.3 MB code and bytecode, 4 MB strings of which 1.8 MB are the bundle\'s',
      '  sources, the rest the snapshot, findings and caches); loading `run`\'s modules alone takes a process to ~60 MiB',
      '  (two protobuf runtimes: protobufjs under gRPC, @bufbuild for the wire; prom-client, pino, commander, yaml).',
      '  The maximum comes from the first scan: its garbage stays in V8\'s heap until the memory reducer runs (≥ 8 s after',
      '  the last major GC) and glibc\'s main arena stays at 5–17 MiB after it (fragmentation decides), so the first 10–20 s of the',
      '  window sit 10–20 MiB above the steady state. `--lite-mode` and MALLOC_ARENA_MAX=2 (third row) cut the peak',
      '  of anonymous memory by a fifth, still well above the goal. Changed here: the bundle (a few chunks instead of ~300',
      '  module sources kept in the heap) and the NATS client loaded only when NATS is used.',
      '- **Scan as a whole process.** `vigil-agent` is bundled (agent/bundle.mjs, esbuild, split at program.ts\'s dynamic',
      '  imports): a scan reads a few files instead of resolving and loading ~150 ES modules one by one (the unbundled',
      '  row is the same code as tsc emits it), and still loads no gRPC, NATS, prom-client, chokidar or daemon module',
      '  (test/unit/daemon/lean-scan.test.ts checks the chunks it loads).',
    ].join('\n');
  } finally {
    for (const p of rig.procs.reverse()) await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
}
