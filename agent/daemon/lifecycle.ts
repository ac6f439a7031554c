// The daemon's life: choose the transports, scan once, open the outbox, make the transports and bind the metrics
// listener, and only then queue that first snapshot (a start that fails leaves nothing queued); then run the scan
// scheduler into the emitter, the transports and the metrics until stop(). With `once`, no watching: the first
// snapshot is delivered and the caller waits for it (delivered()).
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { DEFAULT_CLUSTER } from '../../proto/nats.js';
import { VIGIL_VERSION } from '../../proto/version.js';
import type { WireHeartbeat } from '../../proto/wire.js';
import { toFinding } from '../evaluate/check.js';
import { outboxWriteFailedCheck } from '../evaluate/producers.js';
import { HostAccess } from '../gather/host.js';
import type { ScanOptions } from '../scan.js';
import { AgentMetrics, serveMetrics } from '../ship/metrics.js';
import { Outbox, type OutboxProblem } from '../ship/outbox.js';
import { TokenFile, tokenFilePath } from '../ship/token.js';
import { chooseTransports, createTransports } from '../ship/transports/index.js';
import type { OptionValues, Transport, TransportEvents } from '../ship/transports/types.js';
import { OutboxEmitter } from './emitter.js';
import { ScanScheduler, type ContainerWatchMode } from './scheduler.js';
import { hostSources, type FastPathSources } from './sources.js';

export interface DaemonOptions extends ScanOptions {
  /** Transport names (--transport); default: every transport whose options are given. */
  transport?: string[];
  outboxDir: string;
  outboxMaxBytes?: number;
  rescanIntervalMs: number;
  /** A full snapshot at least this often (default 5 min). */
  fullIntervalMs?: number;
  /** The fast path's period (default 500 ms; 0 turns it off). */
  fastIntervalMs?: number;
  containerWatch?: ContainerWatchMode;
  cluster?: string;
  metricsListen?: string;
  debounceMs?: number;
  /** Delay of the full gather that confirms a file change. */
  confirmDelayMs?: number;
  /** Scan and deliver the first full snapshot; no watching. */
  once?: boolean;
  /** What the fast path reads (default: over today's gather functions). */
  sources?: FastPathSources;
}

/** How a message fared with the transports. */
type Delivery = { ok: true } | { ok: false; reason: string };

interface Daemon {
  readonly node: string;
  readonly metricsPort?: number;
  readonly outbox: Outbox;
  /** The seq of the first full snapshot queued at start. */
  readonly firstSeq: number;
  /** Resolves once every transport acknowledged `seq` (ok), the collector rejected it, or `timeoutMs` passed. */
  delivered(seq: number, timeoutMs: number): Promise<Delivery>;
  stop(): Promise<void>;
}

const OUTBOX_CONDITION = 'outbox';

function outboxFinding(problem: OutboxProblem, dir: string): ReturnType<typeof toFinding> {
  return toFinding(outboxWriteFailedCheck, {
    status: 'warn', resource: { kind: 'node' },
    evidence: { source: 'outbox', path: dir, value: problem.code, detail: `${problem.message} (since ${new Date(problem.since).toISOString()})` },
  });
}

/** `opts`: every option of `vigil-agent run`, the transports' own among them. */
export async function startDaemon(opts: DaemonOptions & OptionValues, log: Logger): Promise<Daemon> {
  const chosen = chooseTransports(opts);
  const tokenPath = tokenFilePath(opts);
  const token = tokenPath ? new TokenFile(tokenPath, log) : undefined;
  const cluster = opts.cluster ?? DEFAULT_CLUSTER;
  const host = new HostAccess(opts);
  let outbox: Outbox | undefined;
  const metrics = new AgentMetrics(() => outbox);
  const rejected = new Map<number, string>();

  let emitter: OutboxEmitter | undefined;
  const scheduler = new ScanScheduler({
    scan: opts, host, sources: opts.sources ?? hostSources(opts, host), stateDir: opts.outboxDir,
    rescanIntervalMs: opts.rescanIntervalMs, fastIntervalMs: opts.fastIntervalMs ?? 500,
    containerWatch: opts.containerWatch ?? 'auto', debounceMs: opts.debounceMs, confirmDelayMs: opts.confirmDelayMs, metrics, log,
    onScanned: (trigger, paths) => emitter?.scanned(scheduler.report(), trigger, paths),
  });
  const first = await scheduler.start();
  const node = first.node.name;

  const box = Outbox.open({
    dir: opts.outboxDir, node, cluster, maxBytes: opts.outboxMaxBytes, transports: chosen.map((t) => t.name),
    onWarning: (msg, detail) => log.warn(detail, msg),
  });
  outbox = box;
  metrics.outboxUnreadable.inc(box.unreadableAtOpen);
  box.on('write-failed', (code: string, problem: OutboxProblem) => {
    metrics.outboxWriteErrors.inc({ code });
    scheduler.setCondition(OUTBOX_CONDITION, outboxFinding(problem, opts.outboxDir));
  });
  box.on('write-recovered', () => scheduler.setCondition(OUTBOX_CONDITION, undefined));
  if (box.degraded) scheduler.setCondition(OUTBOX_CONDITION, outboxFinding(box.degraded, opts.outboxDir));

  const events: TransportEvents = {
    onReconnect: (t) => { metrics.reconnects.inc({ transport: t }); log.info({ transport: t }, 'transport reconnected'); },
    onRejected: (t, seq, reason) => { metrics.rejected.inc({ transport: t }); rejected.set(seq, `${t}: ${reason}`); },
    onResync: (reason) => emitter?.resync(reason),
    heartbeat: (): WireHeartbeat => ({
      agentVersion: VIGIL_VERSION, node, lastScanDurationMs: scheduler.lastScanMs, outboxDepth: box.depth,
      outboxBytes: box.bytes, foldedDeltas: box.foldedDeltas,
    }),
  };
  let transports: Transport[] = [];
  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  const stop = async (): Promise<void> => {
    await scheduler.stop();
    await Promise.allSettled(transports.map((t) => t.stop()));
    await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
  };

  try {
    transports = await createTransports(chosen, opts, { outbox: box, node, cluster, log, events, token });
    if (opts.metricsListen) {
      const served = await serveMetrics(opts.metricsListen, metrics, () => ({
        ok: opts.once === true || Date.now() - scheduler.lastScanAt < 3 * opts.rescanIntervalMs + 60_000,
        detail: { node, lastScanAt: new Date(scheduler.lastScanAt).toISOString(), lastSeq: box.lastSeq,
          outboxDepth: box.depth, outboxDegraded: box.degraded?.code ?? null, watch: scheduler.watchMode,
          containers: scheduler.containerWatch },
      }));
      metricsServer = served.server;
      metricsPort = served.port;
      log.info({ port: metricsPort }, 'metrics listening');
    }
  } catch (err) {
    await stop();
    throw err;
  }

  // Watching starts before the first snapshot is queued, so that it already says how the node is watched.
  if (!opts.once) scheduler.watch();
  emitter = new OutboxEmitter({ outbox: box, metrics, log, fullIntervalMs: opts.fullIntervalMs ?? 5 * 60_000 }, scheduler.report());
  const full = emitter.full();
  log.info({ node, seq: full.seq, findings: first.findings.length, ms: Math.round(scheduler.lastScanMs), pending: box.depth },
    'initial scan queued');

  for (const t of transports) t.start();

  const names = chosen.map((t) => t.name);
  const delivered = (seq: number, timeoutMs: number): Promise<Delivery> => new Promise((resolve) => {
    const check = (): boolean => {
      const refused = rejected.get(seq);
      if (refused) { finish({ ok: false, reason: `the collector rejected it (${refused})` }); return true; }
      if (names.every((t) => box.cursor(t) >= seq)) { finish({ ok: true }); return true; }
      return false;
    };
    const timer = setTimeout(() => {
      const waiting = names.filter((t) => box.cursor(t) < seq);
      finish({ ok: false, reason: `not acknowledged within ${Math.round(timeoutMs / 1000)}s by ${waiting.join(', ')}` });
    }, timeoutMs);
    const onAck = (): void => { check(); };
    function finish(result: Delivery): void {
      clearTimeout(timer);
      box.off('acked', onAck);
      resolve(result);
    }
    box.on('acked', onAck);
    check();
  });

  return { node, metricsPort, outbox: box, firstSeq: full.seq, delivered, stop };
}
