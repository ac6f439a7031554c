// The vigil-agent command line: `scan` (one-shot, kube-bench style) and `run` (the daemon).
import { Command, InvalidArgumentError, Option } from 'commander';
import { SEVERITIES, severityRank } from '../proto/findings.js';
import type { Severity } from '../proto/report.js';
import { FORMATS, renderReport, type Format } from './report/index.js';
import { scanNode, ScanOptionsError, validateScanOptions } from './scan.js';
import { log } from './log.js';
import { VIGIL_VERSION } from '../proto/version.js';
import { formatDuration } from '../common/duration.js';
import { formatSize } from '../common/size.js';
import { hostPortArg, positiveDurationArg, positiveSizeArg } from '../common/cli.js';
import { DEFAULT_CLUSTER, DEFAULT_OUTBOX_BYTES, runUntilSignalled, type RunCliOptions } from './run.js';
import { addTransportOptions } from './ship/transports/index.js';

function parseList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

function parseSeverity(value: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${SEVERITIES.join(', ')}`);
  }
  return value as Severity;
}

/** Options shared by `scan` and `run`: where the host is and what to judge. */
function addScanOptions(cmd: Command): Command {
  return cmd
    .option('--host-root <dir>', 'where the host filesystem is mounted', '/')
    .option('--proc-root <dir>', "the host's /proc", '/proc')
    .option('--node-name <name>', 'node name (default: from the host)')
    .option('--containerd-state-dir <dir>', 'containerd state dir (default: autodetected under the host root)')
    .option('--crio-state-dir <dir>', 'CRI-O state dir (default: autodetected under the host root)')
    .option('--cri-socket <path>', 'CRI socket to ask for container status (default: autodetected)')
    .option('--only <ids>', 'only these check ids or CIS ids (comma-separated; a CIS prefix selects a section)', parseList);
}

export function buildProgram(): Command {
  const program = new Command('vigil-agent')
    .description('Vigil node agent: judges a Kubernetes node against the CIS Benchmark and Pod Security Standards')
    .version(VIGIL_VERSION);

  addScanOptions(program
    .command('scan')
    .description('scan this node once and print a report (like kube-bench, but on effective values)'))
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--fail-on <severity>', 'exit 1 when a failing finding has at least this severity', parseSeverity)
    .action(async (opts: {
      hostRoot: string; procRoot: string; nodeName?: string; containerdStateDir?: string;
      crioStateDir?: string; criSocket?: string; format: Format; only?: string[]; failOn?: Severity;
    }) => {
      try { validateScanOptions(opts); } catch (err) {
        if (!(err instanceof ScanOptionsError)) throw err;
        process.stderr.write(`vigil-agent scan: ${err.message}\n`);
        process.exitCode = err.exitCode;
        return;
      }
      const started = performance.now();
      const { report } = await scanNode(opts);
      log.info({ node: report.node.name, findings: report.findings.length, summary: report.summary,
        ms: Math.round(performance.now() - started) }, 'scan finished');
      process.stdout.write(renderReport(opts.format, report, { color: process.stdout.isTTY === true }));
      if (opts.failOn) {
        const threshold = severityRank(opts.failOn);
        if (report.findings.some((f) => f.status === 'fail' && severityRank(f.severity) >= threshold)) {
          process.exitCode = 1;
        }
      }
    });
  const run = addScanOptions(program
    .command('run')
    .description('run as a daemon: scan, watch the node, deliver every change to the collector'));
  addTransportOptions(run)
    .option('--outbox-dir <dir>', 'durable outbox for undelivered messages', '/var/lib/vigil/outbox')
    .addOption(new Option('--outbox-max-bytes <size>', 'outbox bound (bytes, 64Mi, 64MB); when full, pending deltas fold into a full snapshot')
      .argParser(positiveSizeArg).default(DEFAULT_OUTBOX_BYTES, formatSize(DEFAULT_OUTBOX_BYTES)))
    .addOption(new Option('--rescan-interval <duration>', 'periodic full rescan (processes, sockets, containers)')
      .argParser(positiveDurationArg).default(30_000, formatDuration(30_000)))
    .addOption(new Option('--full-interval <duration>', 'send a full snapshot at least this often (liveness, drift repair)')
      .argParser(positiveDurationArg).default(300_000, formatDuration(300_000)))
    .option('--cluster <name>', 'cluster name in NATS subjects', DEFAULT_CLUSTER)
    .addOption(new Option('--metrics-listen <addr>', 'serve /metrics and /healthz on HOST:PORT').argParser(hostPortArg))
    .action(async (opts: RunCliOptions) => {
      await runUntilSignalled({ ...opts, rescanIntervalMs: opts.rescanInterval, fullIntervalMs: opts.fullInterval }, log);
    });
  return program;
}
