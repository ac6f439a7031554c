// The catalogue: every producer of findings, with the facts each reads. Watch targets and the checks re-run after a
// file changes are derived from it (agent/watch/).
//
// Where a new check goes:
// - a CIS item: a row in the benchmark table of its version (benchmarks/cis-1.12/<section>.ts), with an op
//   (ops.ts) when one says it, else a named judge (judges/);
// - one of Vigil's own checks (containers, ports, PKI, kernel, CNI): checks/.
import type { Check } from './check.js';
import { compileBenchmark } from './rows.js';
import { CIS_1_12 } from './benchmarks/cis-1.12/index.js';
import { containersChecks } from './checks/containers/index.js';
import { portsChecks } from './checks/ports.js';
import { pkiChecks } from './checks/pki.js';
import { kernelChecks } from './checks/kernel.js';
import { cniChecks } from './checks/cni.js';
import { clusterPeersChecks } from './checks/cluster-peers.js';
import { discoveryChecks } from './checks/discovery.js';
import {
  containerEventsFallbackCheck, gatherErrorCheck, outboxWriteFailedCheck, pollingFallbackCheck, sensitiveFileChangedCheck,
  unprivilegedScanCheck,
} from './producers.js';

/** The benchmark version a scan judges. */
export const BENCHMARK = CIS_1_12;

/** The benchmark's rows as checks. */
export const BENCHMARK_CHECKS: readonly Check[] = compileBenchmark(BENCHMARK);

/** Every check a scan runs (`--only` selects among them), in report order. */
export const ALL_CHECKS: readonly Check[] = [
  ...BENCHMARK_CHECKS,
  ...containersChecks,
  ...portsChecks,
  ...pkiChecks,
  ...kernelChecks,
  ...cniChecks,
  ...clusterPeersChecks,
  ...discoveryChecks,
];

/**
 * Findings made outside the checks: gather errors and an unprivileged scan (every scan), sensitive file changes and
 * the watchers' fallbacks (watch), the outbox's write failures (daemon).
 */
const OTHER_PRODUCERS: readonly Check[] = [
  gatherErrorCheck, unprivilegedScanCheck, sensitiveFileChangedCheck, pollingFallbackCheck, containerEventsFallbackCheck,
  outboxWriteFailedCheck,
];

/** Every producer of findings. */
export const CATALOGUE: readonly Check[] = [...ALL_CHECKS, ...OTHER_PRODUCERS];
