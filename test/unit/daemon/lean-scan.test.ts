// `vigil-agent scan` loads only what a scan needs (issue 12): the built CLI runs with a module-resolution hook that
// records every module it loads, and neither gRPC, NATS, prom-client, chokidar nor the daemon may be among them;
// `--help` loads not even the scan. `run` does load the daemon (the hook sees it, so the test sees what it claims).
// The built agent is the bundle (agent/bundle.mjs): a loaded chunk stands for every source it holds, as its
// vigil-agent.meta.json says, so a daemon module that lands in a chunk the scan loads is caught too.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { locateBuiltCli, REPO } from '../../harness/built-cli.js';
import { tempDir } from '../../harness/integration.js';

/** Records every module URL resolved (ESM imports, and require() of the packages they load) to a file. */
const HOOK = `
import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import Module from 'node:module';
const out = process.env.VIGIL_MODULE_TRACE;
register('data:text/javascript,' + encodeURIComponent(\`
  import { appendFileSync } from 'node:fs';
  export async function resolve(spec, ctx, next) {
    const r = await next(spec, ctx);
    appendFileSync(\${JSON.stringify(out)}, r.url + '\\\\n');
    return r;
  }\`));
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try { appendFileSync(out, 'require:' + Module._resolveFilename(request, parent, isMain) + '\\n'); } catch {}
  return load.apply(this, arguments);
};
`;

/** What no scan may load: the transports' clients, metrics, file watchers and the daemon itself. */
const DAEMON_ONLY = [
  /node_modules\/@grpc\//, /node_modules\/nats\//, /node_modules\/prom-client\//, /node_modules\/chokidar\//,
  /\/agent\/daemon\//, /\/agent\/ship\/(transports|metrics|grpc-client|nats-publisher)/, /\/agent\/watch\//, /\/agent\/run\.[jt]s/,
];

/** Each loaded chunk of the bundle at `cli` replaced by the sources it holds (as file URLs under the repo). */
function unbundled(cli: string, loaded: string[]): string[] {
  const meta = join(dirname(cli), 'vigil-agent.meta.json');
  if (!existsSync(meta)) return loaded;
  const chunks = JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string[]>;
  return loaded.flatMap((url) => {
    const file = url.startsWith('file:') ? relative(dirname(cli), fileURLToPath(url)) : undefined;
    const sources = file === undefined ? undefined : chunks[file];
    return sources ? sources.map((s) => pathToFileURL(join(REPO, s)).href) : [url];
  });
}

describe('a lean vigil-agent scan', () => {
  let cli: { cli: string; cleanup(): void };
  let host: BuiltHost;
  let dir: { path: string; cleanup(): void };

  beforeAll(() => {
    cli = locateBuiltCli('agent/cli.js');
    host = buildHost(kubeadmControlPlane());
    dir = tempDir('lean-scan');
    writeFileSync(join(dir.path, 'hook.mjs'), HOOK);
  }, 300_000);
  afterAll(() => { cli?.cleanup(); host?.cleanup(); dir?.cleanup(); });

  /** The modules a run of the CLI with these arguments loads. */
  function modules(args: string[], trace: string): Promise<{ code: number; loaded: string[]; stdout: string; stderr: string }> {
    const file = join(dir.path, trace);
    writeFileSync(file, '');
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', join(dir.path, 'hook.mjs'), cli.cli, ...args],
        { env: { ...process.env, VIGIL_MODULE_TRACE: file, VIGIL_LOG_LEVEL: '' }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
        async (err, stdout, stderr) => {
          const loaded = unbundled(cli.cli, readFileSync(file, 'utf8').split('\n').filter(Boolean));
          resolve({ code: err ? (err as { code?: number }).code ?? -1 : 0, loaded, stdout, stderr });
        });
    });
  }

  it('runs the bundle that package.json\'s bin names, whose chunks say what they hold', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin['vigil-agent']).toBe('dist/bin/vigil-agent.js');
    expect(cli.cli).toMatch(/\/bin\/vigil-agent\.js$/);
    const chunks = JSON.parse(readFileSync(join(dirname(cli.cli), 'vigil-agent.meta.json'), 'utf8')) as Record<string, string[]>;
    expect(Object.values(chunks).flat()).toContain('agent/run.ts');
  });

  it('scan --format json loads no gRPC, NATS, prom-client, chokidar or daemon module, and logs nothing', async () => {
    const r = await modules(['scan', '--format', 'json', '--host-root', host.hostRoot, '--proc-root', host.procRoot], 'scan.txt');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).findings.length).toBeGreaterThan(100);
    expect(r.loaded.some((m) => m.includes('/agent/gather/'))).toBe(true); // the trace sees the scan's own modules
    expect(r.loaded.filter((m) => DAEMON_ONLY.some((re) => re.test(m)))).toEqual([]);
    // No JSON log line on stderr unless --log-level (or VIGIL_LOG_LEVEL) asks.
    expect(r.stderr).toBe('');
  });

  it('--help loads neither the scan nor the daemon', async () => {
    const r = await modules(['--help'], 'help.txt');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: vigil-agent');
    expect(r.loaded.filter((m) => m.includes('/agent/gather/') || DAEMON_ONLY.some((re) => re.test(m)))).toEqual([]);
  });

  it('run --help shows the transports\' options (loaded for run only) and durations as written', async () => {
    const r = await modules(['run', '--help'], 'run-help.txt');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--collector <host:port>');
    expect(r.stdout).toMatch(/--fast-interval <duration>[^]*?\(default: 500ms\)/);
    expect(r.stdout).toMatch(/--rescan-interval <duration>[^]*?\(default: 5m\)/);
    expect(r.stdout).toMatch(/--full-interval <duration>[^]*?\(default: 5m\)/);
    expect(r.stdout).toMatch(/--once-timeout <duration>[^]*?\(default: 2m\)/);
    expect(r.stdout).toMatch(/--outbox-max-bytes <size>[^]*?\(default: 64Mi\)/);
    expect(r.loaded.some((m) => m.includes('/agent/ship/transports/'))).toBe(true);
    const help = await modules(['help', 'run'], 'help-run.txt');
    expect(help.stdout).toContain('--nats-url <url>');
  });

  it('run over gRPC loads the daemon and gRPC but not the NATS client (its options, yes)', async () => {
    // Nothing listens on port 1: the snapshot is not acknowledged, and --once says so after its timeout.
    const r = await modules(['run', '--once', '--once-timeout', '1s', '--insecure', '--collector', '127.0.0.1:1', '--node-name', 'lean-run',
      '--outbox-dir', join(dir.path, 'outbox-run'), '--host-root', host.hostRoot, '--proc-root', host.procRoot, '--log-level', 'silent'], 'run.txt');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/not delivered/);
    expect(r.loaded.some((m) => /\/agent\/daemon\//.test(m))).toBe(true);
    expect(r.loaded.some((m) => /node_modules\/@grpc\//.test(m))).toBe(true);
    expect(r.loaded.some((m) => m.includes('/proto/nats-stream.'))).toBe(true);
    expect(r.loaded.filter((m) => /node_modules\/(nats|nkeys\.js|tweetnacl)\//.test(m))).toEqual([]);
  });

  it('scan --log-level info logs on stderr, never on stdout', async () => {
    const r = await modules(['scan', '--format', 'json', '--log-level', 'info', '--host-root', host.hostRoot, '--proc-root', host.procRoot], 'scan-log.txt');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/"msg":"scan finished"/);
    expect(r.stdout).not.toMatch(/"level":\s*\d+/);
  });
});
