// `npm run bench scan`: a full in-process scan (gather + evaluate) of a kubeadm control-plane fixture host,
// against a baseline that works the way kube-bench does (one shell per check). Goal: < 20 ms per scan and
// ≥ 50× faster than the baseline.
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { buildHost } from '../fixtures/build.js';
import { kubeadmControlPlane } from '../fixtures/hosts/kubeadm-control-plane.js';
import { buildReport, scanNode, selectChecks } from '../../agent/scan.js';
import { gatherSnapshot } from '../../agent/gather/index.js';
import { ALL_CHECKS } from '../../agent/evaluate/checks/index.js';
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

async function timeRuns(warmup: number, runs: number, once: () => unknown): Promise<{ median: number; p95: number; runs: number }> {
  for (let i = 0; i < warmup; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { median: percentile(samples, 50), p95: percentile(samples, 95), runs };
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

    const scan = await timeRuns(SCAN_WARMUP, SCAN_RUNS, () => scanNode(opts));
    const gather = await timeRuns(SCAN_WARMUP, SCAN_RUNS, () => gatherSnapshot(opts));
    const snapshot = await gatherSnapshot(opts);
    const checks = selectChecks(undefined);
    const evaluate = await timeRuns(SCAN_WARMUP, SCAN_RUNS, () => buildReport(snapshot, checks));
    const shells = await timeRuns(BASELINE_WARMUP, BASELINE_RUNS, () => runBaseline(baseline));
    const ratio = shells.median / scan.median;
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
      '| What | Median | p95 | Runs |',
      '| --- | ---: | ---: | ---: |',
      `| Vigil scan (gatherSnapshot + evaluate, in process) | ${ms(scan.median)} | ${ms(scan.p95)} | ${scan.runs} (after ${SCAN_WARMUP} warm-up) |`,
      `| … of which gatherSnapshot alone | ${ms(gather.median)} | ${ms(gather.p95)} | ${gather.runs} |`,
      `| … of which evaluate + report alone | ${ms(evaluate.median)} | ${ms(evaluate.p95)} | ${evaluate.runs} |`,
      `| kube-bench-style baseline (${baseline.length} × /bin/sh) | ${ms(shells.median)} | ${ms(shells.p95)} | ${shells.runs} (after ${BASELINE_WARMUP} warm-up) |`,
      `| Ratio (baseline median / scan median) | ${ratio.toFixed(1)}× | | |`,
      '',
      `Goals: scan under 20 ms — ${goal(scan.median < 20)}; at least 50× faster than the baseline — ${goal(ratio >= 50)}.`,
      '',
      `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Linux ${release()}, Node ${process.version}, `
        + `load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min, a shared machine); `
        + `measured ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench scan\`.`,
    ].join('\n');
  } finally {
    host.cleanup();
  }
}
