// The daemon's life: choose the transports, scan once, open the outbox and queue that first snapshot, then
// run the scan scheduler into the emitter, the transports and the metrics server until stop().
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { DEFAULT_CLUSTER } from '../../proto/nats.js';
import { VIGIL_VERSION } from '../../proto/version.js';
import type { WireHeartbeat } from '../../proto/wire.js';
import { HostAccess } from '../gather/host.js';
import type { ScanOptions } from '../scan.js';
import { AgentMetrics, serveMetrics } from '../ship/metrics.js';
import { Outbox } from '../ship/outbox.js';
import { TokenFile, tokenFilePath } from '../ship/token.js';
import { chooseTransports, createTransports } from '../ship/transports/index.js';
import type { OptionValues, TransportEvents } from '../ship/transports/types.js';
import { OutboxEmitter } from './emitter.js';
import { ScanScheduler } from './scheduler.js';

export interface DaemonOptions extends ScanOptions {
  /** Transport names (--transport); default: every transport whose options are given. */
  transport?: string[];
  outboxDir: string;
  outboxMaxBytes?: number;
  rescanIntervalMs: number;
  /** A full snapshot at least this often (default 5 min). */
  fullIntervalMs?: number;
  cluster?: string;
  metricsListen?: string;
  debounceMs?: number;
  /** Delay of the full gather that confirms a fast-path change. */
  confirmDelayMs?: number;
}

interface Daemon {
  readonly node: string;
  readonly metricsPort?: number;
  outbox: Outbox;
  stop(): Promise<void>;
}

/** `values`: every option of `vigil-agent run`, the transports' own among them. */
export async function startDaemon(opts: DaemonOptions & OptionValues, log: Logger): Promise<Daemon> {
  const chosen = chooseTransports(opts);
  const tokenPath = tokenFilePath(opts);
  const token = tokenPath ? new TokenFile(tokenPath, log) : undefined;
  const cluster = opts.cluster ?? DEFAULT_CLUSTER;
  const host = new HostAccess(opts);
  let outbox: Outbox | undefined;
  const metrics = new AgentMetrics(() => outbox);

  let emitter: OutboxEmitter | undefined;
  const scheduler = new ScanScheduler({
    scan: opts, host, stateDir: opts.outboxDir, rescanIntervalMs: opts.rescanIntervalMs, debounceMs: opts.debounceMs,
    confirmDelayMs: opts.confirmDelayMs, metrics, log,
    onScanned: (trigger, paths) => emitter?.scanned(scheduler.report(), trigger, paths),
  });
  const first = await scheduler.start();
  const node = first.node.name;

  const box = Outbox.open({
    dir: opts.outboxDir, node, cluster, maxBytes: opts.outboxMaxBytes, transports: chosen.map((t) => t.name),
    onWarning: (msg, detail) => log.warn(detail, msg),
  });
  outbox = box;
  const events: TransportEvents = {
    onReconnect: (t) => { metrics.reconnects.inc({ transport: t }); log.info({ transport: t }, 'transport reconnected'); },
    onRejected: (t) => metrics.rejected.inc({ transport: t }),
    onResync: (reason) => emitter?.resync(reason),
    heartbeat: (): WireHeartbeat => ({
      agentVersion: VIGIL_VERSION, node, lastScanDurationMs: scheduler.lastScanMs, outboxDepth: box.depth,
      outboxBytes: box.bytes, foldedDeltas: box.foldedDeltas,
    }),
  };
  const transports = await createTransports(chosen, opts, { outbox: box, node, cluster, log, events, token });

  emitter = new OutboxEmitter({ outbox: box, metrics, log, fullIntervalMs: opts.fullIntervalMs ?? 5 * 60_000 }, first);
  const full = emitter.full();
  log.info({ node, seq: full.seq, findings: first.findings.length, ms: Math.round(scheduler.lastScanMs), pending: box.depth },
    'initial scan queued');

  for (const t of transports) t.start();
  scheduler.watch();

  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  const stop = async (): Promise<void> => {
    await scheduler.stop();
    await Promise.allSettled(transports.map((t) => t.stop()));
    await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
  };
  if (opts.metricsListen) {
    const served = await serveMetrics(opts.metricsListen, metrics, () => ({
      ok: Date.now() - scheduler.lastScanAt < 3 * opts.rescanIntervalMs + 60_000,
      detail: { node, lastScanAt: new Date(scheduler.lastScanAt).toISOString(), lastSeq: box.lastSeq,
        outboxDepth: box.depth, watch: scheduler.watchMode },
    })).catch(async (err: unknown) => { await stop(); throw err; });
    metricsServer = served.server;
    metricsPort = served.port;
    log.info({ port: metricsPort }, 'metrics listening');
  }

  return { node, metricsPort, outbox: box, stop };
}
