// The vigil-agent command line: `scan` (one-shot, kube-bench style) and `run` (the daemon).
//
// Only the command line itself is loaded up front. `scan` imports the scan and its renderers when it runs; `run`
// imports the daemon, and its transports (gRPC, NATS), metrics and watchers, only when it is the command chosen
// (test/unit/daemon/lean-scan.test.ts checks a scan never loads them).
import { Command, InvalidArgumentError, Option } from 'commander';
import { SEVERITIES, severityRank } from '../proto/findings.js';
import type { Severity } from '../proto/report.js';
import { FORMATS, type Format } from './report/index.js';
import { LOG_LEVELS, log, setLogLevel } from './log.js';
import { VIGIL_VERSION } from '../proto/version.js';
import { formatDuration } from '../common/duration.js';
import { formatSize } from '../common/size.js';
import { argParser, hostPortArg, positiveDurationArg, positiveSizeArg } from '../common/cli.js';
import { DEFAULT_CLUSTER } from '../proto/nats.js';
import { isNodeName, NODE_NAME_MAX_LENGTH, NODE_NAME_RULE } from '../proto/node-name.js';
import { DEFAULT_OUTBOX_BYTES } from './ship/outbox.js';

/** The command line was used wrongly: one plain line on stderr, exit 2, before anything else runs. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The full rescan is a safety net: the fast path, the file watchers and the runtime's events see changes at once,
 * and a rescan of a busy node costs most of an idle agent's CPU (BENCHMARKS.md, fast path).
 */
const DEFAULT_RESCAN_MS = 300_000;
const DEFAULT_FULL_MS = 300_000;
/** A new listener waits at most this long to be seen; a look costs ~0.1 ms here (BENCHMARKS.md, fast path). */
const DEFAULT_FAST_MS = 500;
const DEFAULT_ONCE_TIMEOUT_MS = 120_000;
export const CONTAINER_WATCH_MODES = ['auto', 'events', 'state-dir'] as const;

function parseList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

function parseSeverity(value: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${SEVERITIES.join(', ')}`);
  }
  return value as Severity;
}

/** An explicit node name must be one Kubernetes could have given the node: the collector refuses any other. */
const nodeNameArg = argParser((text: string): string => {
  if (!isNodeName(text)) throw new Error(`not a Kubernetes node name: it must be ${NODE_NAME_RULE}, at most ${NODE_NAME_MAX_LENGTH} characters`);
  return text;
});

const durationOption = (flags: string, description: string, ms: number): Option =>
  new Option(flags, description).argParser(positiveDurationArg).default(ms, formatDuration(ms));

/** Options shared by `scan` and `run`: where the host is and what to judge. */
function addScanOptions(cmd: Command): Command {
  return cmd
    .option('--host-root <dir>', 'where the host filesystem is mounted', '/')
    .option('--proc-root <dir>', "the host's /proc", '/proc')
    .option('--node-name <name>', "node name (default: the kubelet's: --hostname-override, else the host name, lowercased)", nodeNameArg)
    .option('--containerd-state-dir <dir>', 'containerd state dir (default: autodetected under the host root)')
    .option('--crio-state-dir <dir>', 'CRI-O state dir (default: autodetected under the host root)')
    .option('--cri-socket <path>', 'CRI socket to ask for container status (default: autodetected)')
    .option('--only <ids>', 'only these check ids or CIS ids (comma-separated; a CIS prefix selects a section)', parseList);
}

const logLevelOption = (fallback: string): Option =>
  new Option('--log-level <level>', `log lines on stderr from this level up (default: VIGIL_LOG_LEVEL, else ${fallback})`)
    .choices(LOG_LEVELS);

interface ScanCliOptions {
  hostRoot: string; procRoot: string; nodeName?: string; containerdStateDir?: string;
  crioStateDir?: string; criSocket?: string; format: Format; only?: string[]; failOn?: Severity; details?: boolean;
  logLevel?: string;
}

/** `vigil-agent run`'s own options as commander parses them (the transports add theirs). */
export interface RunCliOptions {
  hostRoot: string; procRoot: string; nodeName?: string; containerdStateDir?: string; crioStateDir?: string;
  criSocket?: string; only?: string[];
  transport?: string[];
  outboxDir: string; outboxMaxBytes: number; rescanInterval: number; fullInterval: number; fastInterval: number;
  containerWatch: (typeof CONTAINER_WATCH_MODES)[number];
  cluster: string; metricsListen?: string; once?: boolean; onceTimeout: number; logLevel?: string;
  [transportOption: string]: unknown;
}

async function scanAction(opts: ScanCliOptions): Promise<void> {
  setLogLevel(opts.logLevel, 'silent');
  const [{ scanNode, ScanOptionsError, validateScanOptions }, { renderReport }] = await Promise.all([
    import('./scan.js'), import('./report/index.js'),
  ]);
  try {
    validateScanOptions(opts);
  } catch (err) {
    if (!(err instanceof ScanOptionsError)) throw err;
    process.stderr.write(`vigil-agent scan: ${err.message}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  const started = performance.now();
  const { report } = await scanNode(opts);
  log.info({ node: report.node.name, findings: report.findings.length, summary: report.summary,
    ms: Math.round(performance.now() - started) }, 'scan finished');
  const tty = process.stdout.isTTY === true;
  process.stdout.write(renderReport(opts.format, report, {
    color: tty, width: tty ? process.stdout.columns : undefined, details: opts.details === true,
  }));
  if (opts.failOn) {
    const threshold = severityRank(opts.failOn);
    if (report.findings.some((f) => f.status === 'fail' && severityRank(f.severity) >= threshold)) {
      process.exitCode = 1;
    }
  }
}

/** Adds every transport's options to `run` (once): they come with the transports, which only `run` loads. */
async function addTransportOptionsTo(run: Command): Promise<void> {
  if (run.options.some((o) => o.long === '--transport')) return;
  const { addTransportOptions } = await import('./ship/transports/index.js');
  addTransportOptions(run);
}

export function buildProgram(): Command {
  const program = new Command('vigil-agent')
    .description('Vigil node agent: judges a Kubernetes node against the CIS Benchmark and Pod Security Standards')
    .version(VIGIL_VERSION)
    // Errors reach cli.ts as exceptions, which makes every usage error exit 2.
    .exitOverride();

  addScanOptions(program
    .command('scan')
    .description('scan this node once and print a report (like kube-bench, but on effective values)'))
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--fail-on <severity>', 'exit 1 when a failing finding has at least this severity', parseSeverity)
    .option('--details', 'table: evidence source, path and key, and the remediation of warnings too (failures always show theirs)')
    .addOption(logLevelOption('none'))
    .action(scanAction);

  const run = addScanOptions(program
    .command('run')
    .description('run as a daemon: scan, watch the node, deliver every change to the collector'))
    .option('--outbox-dir <dir>', 'durable outbox for undelivered messages', '/var/lib/vigil/outbox')
    .addOption(new Option('--outbox-max-bytes <size>', 'outbox bound (bytes, 64Mi, 64MB); when full, older messages fold into a full snapshot')
      .argParser(positiveSizeArg).default(DEFAULT_OUTBOX_BYTES, formatSize(DEFAULT_OUTBOX_BYTES)))
    .addOption(durationOption('--fast-interval <duration>', 'how often the fast path looks for new processes, listeners and kernel changes', DEFAULT_FAST_MS))
    .addOption(durationOption('--rescan-interval <duration>', 'periodic full rescan (everything, as at start)', DEFAULT_RESCAN_MS))
    .addOption(durationOption('--full-interval <duration>', 'send a full snapshot at least this often (liveness, drift repair)', DEFAULT_FULL_MS))
    .addOption(new Option('--container-watch <mode>', 'how new containers are seen: auto (runtime events when the containerd socket answers, '
      + 'else the runtime state dir), events, state-dir').choices(CONTAINER_WATCH_MODES).default('auto'))
    .option('--cluster <name>', 'cluster name in NATS subjects', DEFAULT_CLUSTER)
    .addOption(new Option('--metrics-listen <addr>', 'serve /metrics and /healthz on HOST:PORT').argParser(hostPortArg))
    .option('--once', 'scan, deliver the full snapshot, exit 0 once the collector acknowledged it')
    .addOption(durationOption('--once-timeout <duration>', 'with --once: give up (exit 1) when not acknowledged within this time', DEFAULT_ONCE_TIMEOUT_MS))
    .addOption(logLevelOption('info'))
    .action(async (opts: RunCliOptions) => {
      setLogLevel(opts.logLevel, 'info');
      const { runAgent } = await import('./run.js');
      process.exitCode = await runAgent(opts, log);
    });
  // The transports' options are loaded only when `run` is the command (and for `help run`, see cli.ts).
  program.hook('preSubcommand', async (_program, sub) => { if (sub === run) await addTransportOptionsTo(run); });
  return program;
}

/** For `vigil-agent help run`, which prints run's help without the preSubcommand hook. */
export async function prepareHelp(program: Command, argv: readonly string[]): Promise<void> {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const run = program.commands.find((c) => c.name() === 'run');
  if (run && words[0] === 'help' && words[1] === 'run') await addTransportOptionsTo(run);
}
