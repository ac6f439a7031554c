// `vigil-agent run`: the daemon. A full scan at start, then watch: a change to anything the checks read
// (or the periodic rescan of /proc and sockets) re-scans, and only the difference leaves as a delta,
// through the durable outbox to every configured transport. The parts are in agent/daemon/.
import type { Logger } from 'pino';
import type { Check } from './evaluate/check.js';
import { startDaemon as startDaemonWith, type Daemon, type DaemonOptions } from './daemon/lifecycle.js';
import type { OptionValues } from './ship/transports/types.js';

export type { Daemon } from './daemon/lifecycle.js';

/** The daemon's options plus every transport's own (`--collector`, `--nats-url`, … as commander names them). */
export type RunOptions = DaemonOptions & OptionValues;

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

export function startDaemon(opts: RunOptions, log: Logger): Promise<Daemon> {
  return startDaemonWith(opts, log, { pollingFallbackCheck });
}

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
