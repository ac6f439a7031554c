// `vigil-agent run`: the daemon. A full scan at start, then watch: a change to anything the checks read
// (or the periodic rescan of /proc and sockets) re-scans, and only the difference leaves as a delta,
// through the durable outbox to every configured transport.
import type { Server } from 'node:http';
import { posix } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { summarize } from '../proto/findings.js';
import type { Finding, NodeReport } from '../proto/report.js';
import type { WireHeartbeat } from '../proto/wire.js';
import { diffReports, isEmptyDelta } from './diff/index.js';
import { toFinding, type Check } from './evaluate/check.js';
import { HostAccess } from './gather/host.js';
import { scanNode, selectChecks, type ScanOptions } from './scan.js';
import type { Snapshot } from './snapshot.js';
import { AgentMetrics, serveMetrics } from './ship/metrics.js';
import { DEFAULT_CLUSTER, findingsSubject } from '../proto/nats.js';
import { Outbox } from './ship/outbox.js';
import { createTransports } from './ship/transport.js';
import { patchFileFacts, reevaluate } from './watch/fast-path.js';
import { SensitiveFiles } from './watch/sensitive.js';
import { sensitiveKind, watchTargets, type SensitiveKind, type WatchTarget } from './watch/targets.js';
import { HostWatcher } from './watch/watcher.js';
import { VIGIL_VERSION } from '../proto/version.js';

export const TRANSPORTS = ['grpc', 'nats', 'both'] as const;
export type TransportChoice = (typeof TRANSPORTS)[number];

export interface RunOptions extends ScanOptions {
  collector?: string;
  natsUrl?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  transport?: TransportChoice;
  outboxDir: string;
  outboxMaxBytes?: number;
  rescanIntervalMs: number;
  /**
   * A full snapshot at least this often (default 5 min): it tells the collector the node is alive while
   * nothing changes, and repairs any drift between the two views.
   */
  fullIntervalMs?: number;
  cluster?: string;
  metricsListen?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
  insecure?: boolean;
  debounceMs?: number;
  /** Delay of the full gather that confirms a fast-path change. */
  confirmDelayMs?: number;
}

export interface Daemon {
  readonly node: string;
  readonly metricsPort?: number;
  outbox: Outbox;
  stop(): Promise<void>;
}

const pollingFallbackCheck: Check = {
  id: 'vigil.watch.polling-fallback',
  cis: null,
  title: 'File watching fell back to polling (inotify limit reached)',
  severity: 'low',
  component: 'node',
  remediation: 'Raise fs.inotify.max_user_watches / max_user_instances on the node. Until then the agent polls, '
    + 'which notices changes later and costs more CPU.',
  evaluate: () => [],
};

/** Parses 30s, 500ms, 2m, 1h (a bare number is seconds). */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new Error(`expected a duration like 30s, 500ms or 2m, got ${JSON.stringify(value)}`);
  const n = Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (n < 1) throw new Error(`duration ${value} is too short`);
  return n;
}

function resolveTransport(opts: RunOptions): TransportChoice {
  const choice = opts.transport ?? (opts.collector && opts.natsUrl ? 'both' : opts.natsUrl ? 'nats' : 'grpc');
  if ((choice === 'grpc' || choice === 'both') && !opts.collector) throw new Error(`--transport ${choice} needs --collector HOST:PORT`);
  if ((choice === 'nats' || choice === 'both') && !opts.natsUrl) throw new Error(`--transport ${choice} needs --nats-url`);
  if (choice !== 'nats' && !opts.insecure && !(opts.tlsCa && opts.tlsCert && opts.tlsKey)) {
    throw new Error('gRPC needs --tls-ca, --tls-cert and --tls-key (or --insecure for a loopback collector)');
  }
  return choice;
}

function withExtra(report: NodeReport, extra: Finding[]): NodeReport {
  if (extra.length === 0) return report;
  const findings = [...report.findings, ...extra];
  return { ...report, findings, summary: summarize(findings) };
}

/** Sensitive files among the watch targets (dirs walked to their depth), with their kind. */
function sensitivePaths(host: HostAccess, targets: WatchTarget[], snapshot: Snapshot): Array<[string, SensitiveKind]> {
  const out = new Map<string, SensitiveKind>();
  for (const t of targets) {
    const paths = t.depth === undefined ? [t.path] : host.walk(t.path, 5_000)
      .filter((f) => f.type !== 'dir' && posix.relative(t.path, f.path).split('/').length <= t.depth! + 1)
      .map((f) => f.path);
    for (const p of paths) {
      const kind = sensitiveKind(p, snapshot);
      if (kind) out.set(p, kind);
    }
  }
  return [...out];
}

export async function startDaemon(opts: RunOptions, log: Logger): Promise<Daemon> {
  const choice = resolveTransport(opts);
  const cluster = opts.cluster ?? DEFAULT_CLUSTER;
  const host = new HostAccess(opts);
  let outbox: Outbox | undefined;
  const metrics = new AgentMetrics(() => outbox);

  const scan = async (trigger: string): Promise<{ report: NodeReport; snapshot: Snapshot; ms: number }> => {
    const started = performance.now();
    try {
      const r = await scanNode(opts);
      const ms = performance.now() - started;
      metrics.scans.inc({ trigger, result: 'ok' });
      metrics.scanDuration.observe(ms / 1000);
      return { ...r, ms };
    } catch (err) {
      metrics.scans.inc({ trigger, result: 'error' });
      throw err;
    }
  };

  const first = await scan('start');
  const node = first.report.node.name;
  if (choice !== 'grpc') findingsSubject(cluster, node); // fail now on a name NATS cannot carry
  let snapshot = first.snapshot;
  let lastScanMs = first.ms;
  let lastScanAt = Date.now();
  const sensitive = new SensitiveFiles(host, opts.outboxDir);
  let targets = watchTargets(snapshot, opts);
  sensitive.observe(sensitivePaths(host, targets, snapshot));

  let watcher: HostWatcher | undefined;
  const extraFindings = (): Finding[] => {
    const extra = sensitive.findings();
    if (watcher?.mode === 'polling') {
      extra.push(toFinding(pollingFallbackCheck, {
        status: 'warn', resource: { kind: 'node' },
        evidence: { source: 'watch', detail: `watching ${watcher.watchedTargets} targets by polling: ${watcher.fallbackReason}` },
      }));
    }
    return extra;
  };

  let current = withExtra(first.report, extraFindings());
  metrics.setFindings(current);
  outbox = Outbox.open({
    dir: opts.outboxDir, node, cluster, maxBytes: opts.outboxMaxBytes,
    transports: choice === 'both' ? ['grpc', 'nats'] : [choice],
    onWarning: (msg, detail) => log.warn(detail, msg),
  });
  const box = outbox;
  const full = box.append({ kind: 'full', report: current }, () => current);
  log.info({ node, seq: full.seq, findings: current.findings.length, ms: Math.round(first.ms), pending: box.depth }, 'initial scan queued');

  // ---- rescans, serialized: a change during a scan runs one more scan after it ----
  // A watched change takes the fast path (re-stat the changed files, re-run the checks that named them),
  // then a full gather confirms shortly after and catches what the fast path cannot see (content edits).
  const checks = selectChecks(opts.only);
  let scanReport = first.report;
  let scanning: Promise<void> | undefined;
  let again: string | undefined;
  let confirmTimer: NodeJS.Timeout | undefined;
  const changed = new Set<string>();

  let lastFullAt = Date.now();
  const fullIntervalMs = opts.fullIntervalMs ?? 5 * 60_000;
  const emit = (trigger: string, paths: string[]): void => {
    const next = withExtra(scanReport, extraFindings());
    const delta = diffReports(current, next);
    current = next;
    metrics.setFindings(current);
    if (trigger === 'interval' && Date.now() - lastFullAt >= fullIntervalMs) {
      const e = box.append({ kind: 'full', report: current }, () => current);
      lastFullAt = Date.now();
      log.info({ seq: e.seq, findings: current.findings.length, changed: !isEmptyDelta(delta) }, 'periodic full snapshot queued');
      return;
    }
    if (isEmptyDelta(delta)) return;
    const e = box.append({ kind: 'delta', delta }, () => current);
    metrics.deltas.inc();
    log.info({ seq: e.seq, kind: e.payload.kind, trigger, added: delta.added.length, changed: delta.changed.length,
      resolved: delta.resolved.length, paths: paths.slice(0, 5) }, 'change queued');
  };
  const observeSensitive = (paths: string[]): void => {
    sensitive.observe(paths.flatMap((p) => { const k = sensitiveKind(p, snapshot); return k ? [[p, k] as [string, SensitiveKind]] : []; }));
  };
  const fastPath = (paths: string[]): void => {
    const started = performance.now();
    const patched = patchFileFacts(snapshot, host, new Set(paths));
    const findings = reevaluate(scanReport.findings, patched.snapshot, checks, new Set(paths));
    snapshot = patched.snapshot;
    if (findings) scanReport = { ...scanReport, scannedAt: new Date().toISOString(), findings, summary: summarize(findings) };
    observeSensitive(paths);
    metrics.scans.inc({ trigger: 'watch', result: 'ok' });
    metrics.scanDuration.observe((performance.now() - started) / 1000);
    emit('watch', paths);
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(() => void rescan('confirm'), opts.confirmDelayMs ?? 1_000);
  };
  const fullScan = async (trigger: string, paths: string[]): Promise<void> => {
    const r = await scan(trigger);
    snapshot = r.snapshot;
    scanReport = r.report;
    lastScanMs = r.ms;
    lastScanAt = Date.now();
    if (trigger === 'interval') {
      targets = watchTargets(snapshot, opts);
      watcher?.add(targets);
      sensitive.observe(sensitivePaths(host, targets, snapshot));
    } else {
      observeSensitive(paths);
    }
    emit(trigger, paths);
  };
  const rescan = (trigger: string): Promise<void> => {
    if (scanning) { again = again === 'interval' ? again : trigger; return scanning; }
    scanning = (async () => {
      let next: string | undefined = trigger;
      while (next) {
        again = undefined;
        const paths = [...changed];
        changed.clear();
        try {
          if (next === 'watch') fastPath(paths);
          else await fullScan(next, paths);
        } catch (err) {
          log.error({ err: (err as Error).message, trigger: next }, 'rescan failed');
        }
        next = again ?? (changed.size > 0 ? 'watch' : undefined);
      }
    })().finally(() => { scanning = undefined; });
    return scanning;
  };

  // ---- transports ----
  const heartbeat = (): WireHeartbeat => ({
    agentVersion: VIGIL_VERSION, node, lastScanDurationMs: lastScanMs, outboxDepth: box.depth,
    outboxBytes: box.bytes, foldedDeltas: box.foldedDeltas,
  });
  const events = {
    onReconnect: (t: string) => { metrics.reconnects.inc({ transport: t }); log.info({ transport: t }, 'transport reconnected'); },
    onRejected: (t: string) => metrics.rejected.inc({ transport: t }),
    onResync: (reason: string) => {
      metrics.resyncs.inc();
      const e = box.append({ kind: 'full', report: current }, () => current);
      lastFullAt = Date.now();
      log.info({ reason, seq: e.seq }, 'collector asked for a full snapshot');
    },
    heartbeat,
  };
  const transports = await createTransports({ ...opts, choice }, { outbox: box, node, cluster, log }, events);
  for (const t of transports) t.start();

  // ---- watching ----
  watcher = new HostWatcher({
    host,
    debounceMs: opts.debounceMs,
    onChange: (paths) => { for (const p of paths) changed.add(p); void rescan('watch'); },
    onFallback: (reason) => {
      metrics.watchPolling.set(1);
      log.warn({ reason }, 'file watch limit reached; polling instead');
      void rescan('watch');
    },
    onError: (err) => log.warn({ err: err.message }, 'file watcher error'),
  });
  watcher.add(targets);
  const interval = setInterval(() => void rescan('interval'), opts.rescanIntervalMs);

  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  if (opts.metricsListen) {
    const served = await serveMetrics(opts.metricsListen, metrics, () => ({
      ok: Date.now() - lastScanAt < 3 * opts.rescanIntervalMs + 60_000,
      detail: { node, lastScanAt: new Date(lastScanAt).toISOString(), lastSeq: box.lastSeq, outboxDepth: box.depth,
        watch: watcher?.mode },
    }));
    metricsServer = served.server;
    metricsPort = served.port;
    log.info({ port: metricsPort }, 'metrics listening');
  }

  return {
    node,
    metricsPort,
    outbox: box,
    async stop() {
      clearInterval(interval);
      clearTimeout(confirmTimer);
      await watcher?.close();
      await scanning;
      await Promise.allSettled(transports.map((t) => t.stop()));
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
    },
  };
}

// ---- command line ----

export { DEFAULT_CLUSTER } from '../proto/nats.js';
export { DEFAULT_OUTBOX_BYTES } from './ship/outbox.js';

export type RunCliOptions = Omit<RunOptions, 'rescanIntervalMs' | 'fullIntervalMs'> & { rescanInterval: number; fullInterval: number };

export function parseRunDuration(value: string): number {
  try { return parseDuration(value); } catch (err) { throw new InvalidArgumentError((err as Error).message); }
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Runs the daemon until SIGTERM or SIGINT, then stops it cleanly. */
export async function runUntilSignalled(opts: RunOptions, log: Logger): Promise<void> {
  const daemon = await startDaemon(opts, log);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await daemon.stop();
}
