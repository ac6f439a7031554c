// Structured logs on stderr (stdout stays free for `query` output). Never log tokens or report contents.
import pino, { type Logger } from 'pino';

export function createLogger(level = process.env.VIGIL_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'vigil-collector', level }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
