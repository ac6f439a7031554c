// `vigil-agent run`: the daemon. A full scan at start, then watch: a change to anything the checks read
// (or the periodic rescan of /proc and sockets) re-scans, and only the difference leaves as a delta,
// through the durable outbox to every configured transport. The parts are in agent/daemon/.
import type { Logger } from 'pino';
import { startDaemon, type DaemonOptions } from './daemon/lifecycle.js';
import type { OptionValues } from './ship/transports/types.js';


/** The daemon's options plus every transport's own (`--collector`, `--nats-url`, … as commander names them). */
type RunOptions = DaemonOptions & OptionValues;

// ---- command line ----

export { DEFAULT_CLUSTER } from '../proto/nats.js';
export { DEFAULT_OUTBOX_BYTES } from './ship/outbox.js';

export type RunCliOptions = Omit<DaemonOptions, 'rescanIntervalMs' | 'fullIntervalMs'> & OptionValues
  & { rescanInterval: number; fullInterval: number };

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
