// Structured logs on stderr (stdout carries reports only). Never log file contents, env values or keys.
// The level comes from --log-level, else VIGIL_LOG_LEVEL, else the command's own default: `scan` prints no log
// line unless asked (its report is the output), `run` logs at info.
import pino from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export const log = pino({ name: 'vigil-agent', level: 'info' }, pino.destination({ fd: 2, sync: true }));

const isLevel = (value: string): value is LogLevel => (LOG_LEVELS as readonly string[]).includes(value);

/**
 * Sets the level from the flag, the environment or `fallback`. Throws (naming where the bad value came from) on a
 * level pino does not know.
 */
export function setLogLevel(flag: string | undefined, fallback: LogLevel, env = process.env.VIGIL_LOG_LEVEL): LogLevel {
  const fromEnv = env?.trim() ? env.trim() : undefined;
  const chosen = flag ?? fromEnv ?? fallback;
  if (!isLevel(chosen)) {
    const where = flag !== undefined ? `--log-level ${flag}` : `VIGIL_LOG_LEVEL=${fromEnv}`;
    throw new Error(`${where} is not a log level (one of ${LOG_LEVELS.join(', ')})`);
  }
  log.level = chosen;
  return chosen;
}
