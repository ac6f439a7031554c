// `npm run bench scan`: a full in-process scan (gather + evaluate) of a kubeadm control-plane fixture host,
// against a baseline that works the way kube-bench does (one shell per check). Goal: < 20 ms per scan and
// ≥ 50× faster than the baseline.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { buildHost } from '../fixtures/build.js';
import { kubeadmControlPlane } from '../fixtures/hosts/kubeadm-control-plane.js';
import { buildReport, scanNode, selectChecks } from '../../agent/scan.js';
import { gatherSnapshot } from '../../agent/gather/index.js';
import { ALL_CHECKS } from '../../agent/evaluate/catalogue.js';
import { baselineChecks, runBaseline } from './kube-bench-baseline.js';

const SCAN_WARMUP = 20;
const SCAN_RUNS = 200;
const BASELINE_WARMUP = 1;
const BASELINE_RUNS = 15;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples');
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

interface Stats { median: number; p95: number }
interface Timing { wall: Stats; cpu: Stats; runs: number }

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/** CPU ms this process and its waited-for children have used (children: utime+stime from /proc/self/stat). */
function cpuMs(): number {
  const own = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // Fields after "comm)": index 13 and 14 are cutime and cstime, in clock ticks (USER_HZ = 100 on Linux).
  const children = (Number(fields[13]) + Number(fields[14])) * 10;
  return (own.user + own.system) / 1000 + children;
}

/**
 * Runs each task `runs` times after `warmup` rounds, interleaved (a, b, c, a, b, c, ...) so load on a shared
 * machine hits every task alike. Wall time and CPU time both: CPU time is the steadier figure under load.
 */
async function timeInterleaved(warmup: number, runs: number, tasks: Record<string, () => unknown>): Promise<Record<string, Timing>> {
  const names = Object.keys(tasks);
  for (let i = 0; i < warmup; i++) for (const n of names) await tasks[n]();
  const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) {
    for (const n of names) {
      const c0 = cpuMs();
      const t0 = performance.now();
      await tasks[n]();
      wall[n].push(performance.now() - t0);
      cpu[n].push(cpuMs() - c0);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { wall: stats(wall[n]), cpu: stats(cpu[n]), runs }]));
}

const ms = (n: number): string => `${n.toFixed(2)} ms`;

export async function run(): Promise<string> {
  const host = buildHost(kubeadmControlPlane());
  try {
    const opts = { hostRoot: host.hostRoot, procRoot: host.procRoot, nodeName: 'cp-1' };
    const { report } = await scanNode(opts);
    const cisChecks = ALL_CHECKS.filter((c) => c.cis !== null).length;
    const baseline = baselineChecks(report.findings, host.hostRoot, host.procRoot);
    if (baseline.length === 0) throw new Error('the scan judged no CIS check on the fixture: nothing to compare against');
    const answered = runBaseline(baseline);

    const snapshot = await gatherSnapshot(opts);
    const checks = selectChecks(undefined);
    const { scan, gather, evaluate } = await timeInterleaved(SCAN_WARMUP, SCAN_RUNS, {
      scan: () => scanNode(opts),
      gather: () => gatherSnapshot(opts),
      evaluate: () => buildReport(snapshot, checks),
    });
    const { shells } = await timeInterleaved(BASELINE_WARMUP, BASELINE_RUNS, { shells: () => runBaseline(baseline) });
    const ratio = shells.wall.median / scan.wall.median;
    const cpuRatio = shells.cpu.median / scan.cpu.median;
    const row = (what: string, t: Timing, warm: number): string =>
      `| ${what} | ${ms(t.wall.median)} | ${ms(t.wall.p95)} | ${ms(t.cpu.median)} | ${t.runs}${warm ? ` (after ${warm} warm-up)` : ''} |`;
    const s = report.summary;
    const goal = (ok: boolean): string => (ok ? 'met' : '**not met**');
    return [
      '## Scan: in-process scan vs a kube-bench-style baseline',
      '',
      `Fixture: kubeadm v1.30 control-plane node after kubeadm init (test/fixtures/hosts/kubeadm-control-plane.ts), ${report.findings.length} findings `
        + `(${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.skip} skip, ${s.error} error) from ${ALL_CHECKS.length} checks `
        + `(${cisChecks} CIS). Baseline: ${baseline.length} shells, one per CIS check the scan judged on this host `
        + `(${answered} produced output), run one after another as kube-bench does.`,
      '',
      '| What | Wall median | Wall p95 | CPU median | Runs |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('Vigil scan (scanNode: gatherSnapshot + evaluate, in process)', scan, SCAN_WARMUP),
      row('… gatherSnapshot alone', gather, 0),
      row('… evaluate + report alone (same snapshot)', evaluate, 0),
      row(`kube-bench-style baseline (${baseline.length} × /bin/sh, CPU incl. children)`, shells, BASELINE_WARMUP),
      `| Ratio baseline / scan (medians) | ${ratio.toFixed(1)}× | | ${cpuRatio.toFixed(1)}× | |`,
      '',
      `Goals (wall medians): scan under 20 ms — ${goal(scan.wall.median < 20)}; at least 50× faster than the baseline — ${goal(ratio >= 50)}.`,
      '',
      `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Linux ${release()}, Node ${process.version}, `
        + `load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min, a shared machine); `
        + `measured ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench scan\`.`,
    ].join('\n');
  } finally {
    host.cleanup();
  }
}
