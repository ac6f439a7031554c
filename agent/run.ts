// `vigil-agent run`: the command line is checked before anything touches the host or the outbox (a mistake is one
// plain line and exit 2, before any scan); then either the daemon (scan, watch, deliver every change until SIGTERM
// or SIGINT) or --once (scan, deliver the full snapshot, exit 0 once the collector acknowledged it). The parts are in
// agent/daemon/.
import { accessSync, constants } from 'node:fs';
import type { Logger } from 'pino';
import { hostOf, isLoopbackHost } from '../common/address.js';
import { sleep } from '../common/backoff.js';
import { formatDuration } from '../common/duration.js';
import { startDaemon, type DaemonOptions } from './daemon/lifecycle.js';
import { UsageError, type RunCliOptions } from './program.js';
import { chooseTransports, TRANSPORTS } from './ship/transports/index.js';
import type { OptionValues, TransportComponent } from './ship/transports/types.js';

/** How long stopping may take: an unreachable collector must not hold the agent after SIGTERM. */
const STOP_BUDGET_MS = 500;

/** The option a transport needs to be configured, as the user typed it: `--collector 10.0.0.5:7443`. */
function givenTrigger(t: TransportComponent, values: OptionValues): string | undefined {
  const flag = t.requires.split(' ')[0];
  const key = flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  const value = values[key];
  return typeof value === 'string' ? `${flag} ${value}` : undefined;
}

/**
 * The transports to use, or a UsageError naming what the user passed and what is missing. Files the transports'
 * options name (`--tls-ca <file>`, …) must be readable now, not after the first scan.
 */
function checkRunOptions(values: OptionValues & { transport?: readonly string[] }): TransportComponent[] {
  if (!values.transport && !TRANSPORTS.some((t) => t.configured(values))) {
    throw new UsageError(`give ${TRANSPORTS.map((t) => t.requires).join(' or ')}`);
  }
  let chosen: TransportComponent[];
  try {
    chosen = chooseTransports(values);
  } catch (err) {
    const message = (err as Error).message;
    const given = TRANSPORTS.map((t) => givenTrigger(t, values)).filter(Boolean).join(' ');
    throw new UsageError(message.startsWith('--') || !given ? message : `${given}: ${message}`);
  }
  // The gRPC transport refuses a plaintext non-loopback collector only when it is made, after the first scan.
  const collector = values.collector;
  if (values.insecure === true && typeof collector === 'string' && chosen.some((t) => t.name === 'grpc')
    && !isLoopbackHost(hostOf(collector))) {
    throw new UsageError(`--insecure is for a loopback collector, not --collector ${collector}`);
  }
  for (const t of chosen) {
    for (const option of t.options()) {
      const value = values[option.attributeName()];
      if (!option.flags.includes('<file>') || typeof value !== 'string') continue;
      try { accessSync(value, constants.R_OK); } catch (err) {
        throw new UsageError(`${option.long} ${value}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
  }
  return chosen;
}

function daemonOptions(opts: RunCliOptions): DaemonOptions & OptionValues {
  return {
    ...opts, rescanIntervalMs: opts.rescanInterval, fullIntervalMs: opts.fullInterval, fastIntervalMs: opts.fastInterval,
  };
}

/** Stops the daemon within the budget; what is still winding down after it is cut off by the exit. */
async function stopWithin(stop: () => Promise<void>, log: Logger): Promise<void> {
  let late = false;
  await Promise.race([stop(), sleep(STOP_BUDGET_MS).then(() => { late = true; })]);
  if (late) log.warn({ budgetMs: STOP_BUDGET_MS }, 'stopped without waiting for the transports to close');
}

/** Runs `vigil-agent run`; resolves to the exit code. */
export async function runAgent(opts: RunCliOptions, log: Logger): Promise<number> {
  checkRunOptions(opts);
  return opts.once ? runOnce(opts, log) : runUntilSignalled(opts, log);
}

async function runUntilSignalled(opts: RunCliOptions, log: Logger): Promise<number> {
  const daemon = await startDaemon(daemonOptions(opts), log);
  const signal = await new Promise<string>((resolve) => {
    const onTerm = (): void => done('SIGTERM');
    const onInt = (): void => done('SIGINT');
    function done(name: string): void {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      // A second signal while stopping ends the process at once.
      process.once('SIGTERM', () => process.exit(143));
      process.once('SIGINT', () => process.exit(130));
      resolve(name);
    }
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  log.info({ signal }, 'stopping');
  await stopWithin(() => daemon.stop(), log);
  exitSoon(0);
  return 0;
}

async function runOnce(opts: RunCliOptions, log: Logger): Promise<number> {
  const daemon = await startDaemon(daemonOptions(opts), log);
  const result = await daemon.delivered(daemon.firstSeq, opts.onceTimeout);
  await stopWithin(() => daemon.stop(), log);
  if (result.ok) {
    log.info({ node: daemon.node, seq: daemon.firstSeq }, 'full snapshot delivered');
    exitSoon(0);
    return 0;
  }
  process.stderr.write(`vigil-agent run --once: the full snapshot of ${daemon.node} (seq ${daemon.firstSeq}) was not delivered: `
    + `${result.reason} (--once-timeout ${formatDuration(opts.onceTimeout)}); it stays in ${opts.outboxDir} for the next run\n`);
  exitSoon(1);
  return 1;
}

/** Exits once the event loop had a moment to flush: sockets still closing must not keep the process alive. */
function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), 50).unref();
}
