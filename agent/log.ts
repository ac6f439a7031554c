// Structured logs on stderr (stdout carries reports only). Never log file contents, env values or keys.
import pino from 'pino';

export const log = pino(
  { name: 'vigil-agent', level: process.env.VIGIL_LOG_LEVEL ?? 'info' },
  pino.destination({ fd: 2, sync: true }),
);
