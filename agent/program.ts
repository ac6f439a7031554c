// The vigil-agent command line: `scan` (one-shot, kube-bench style) and `run` (the daemon).
import { Command, InvalidArgumentError, Option } from 'commander';
import { SEVERITIES, severityRank, type Severity } from '../proto/report.js';
import { FORMATS, renderReport, type Format } from './report/index.js';
import { scanNode } from './scan.js';
import { log } from './log.js';
import { AGENT_VERSION } from './version.js';

function parseList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

function parseSeverity(value: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${SEVERITIES.join(', ')}`);
  }
  return value as Severity;
}

export function buildProgram(): Command {
  const program = new Command('vigil-agent')
    .description('Vigil node agent: judges a Kubernetes node against the CIS Benchmark and Pod Security Standards')
    .version(AGENT_VERSION);

  program
    .command('scan')
    .description('scan this node once and print a report (like kube-bench, but on effective values)')
    .option('--host-root <dir>', 'where the host filesystem is mounted', '/')
    .option('--proc-root <dir>', "the host's /proc", '/proc')
    .option('--node-name <name>', 'node name (default: from the host)')
    .option('--containerd-state-dir <dir>', 'containerd state dir (default: autodetected under the host root)')
    .option('--crio-state-dir <dir>', 'CRI-O state dir (default: autodetected under the host root)')
    .option('--cri-socket <path>', 'CRI socket to ask for container status (default: autodetected)')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--only <ids>', 'only these check ids or CIS ids (comma-separated; a CIS prefix selects a section)', parseList)
    .option('--fail-on <severity>', 'exit 1 when a failing finding has at least this severity', parseSeverity)
    .action(async (opts: {
      hostRoot: string; procRoot: string; nodeName?: string; containerdStateDir?: string;
      crioStateDir?: string; criSocket?: string; format: Format; only?: string[]; failOn?: Severity;
    }) => {
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
  return program;
}
