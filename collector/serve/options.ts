// Every `vigil-collector serve` option in one place: declared for commander, then resolved and checked into
// CollectorOptions, which startCollector (and tests, and the streaming transports) take.
import { readFileSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { loadTokens, type TokenSet } from './auth.js';

export interface CollectorOptions {
  dataDir?: string;
  databaseUrl?: string;
  http: { host: string; port: number };
  /** Undefined only with --no-auth (loopback only). */
  tokens?: TokenSet;
  retentionMs: number;
  /** The agents' report interval; a node is silent after 3 of them without a report. */
  reportIntervalMs: number;
  maxReportBytes: number;
  /** Shortest time between two correlation computations while reports keep arriving. */
  correlateIntervalMs: number;
  logLevel: string;
  sqliteSynchronous: 'FULL' | 'NORMAL';
}

export const SILENT_AFTER_INTERVALS = 3;

/** Raw values as commander hands them over. */
export interface RawServeOptions {
  dataDir?: string;
  databaseUrl?: string;
  httpListen: string;
  tokens?: string;
  auth: boolean;
  retention: string;
  reportInterval: string;
  maxReportSize: string;
  correlateInterval: string;
  logLevel: string;
  sqliteSync: string;
}

export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'SQLite store directory (the embedded default)')
    .option('--database-url <url>', 'PostgreSQL URL (postgres://user@host:port/db) instead of SQLite')
    .option('--http-listen <addr>', 'REST, metrics and health address (host:port)', '127.0.0.1:8080')
    .option('--tokens <file>', 'bearer tokens: one "<token> <roles>" per line, roles read and/or report')
    .option('--no-auth', 'serve without authentication (refused unless --http-listen is a loopback address)')
    .option('--retention <duration>', 'delete resolved findings after this long', '30d')
    .option('--report-interval <duration>', "the agents' report interval; silent after 3 missed", '5m')
    .option('--max-report-size <bytes>', 'largest accepted report body (e.g. 32mb)', '32mb')
    .option('--correlate-interval <duration>', 'least time between correlation runs while reports arrive', '5s')
    .addOption(new Option('--sqlite-sync <mode>', 'SQLite synchronous mode').choices(['FULL', 'NORMAL']).default('FULL'))
    .option('--log-level <level>', 'pino log level', process.env.VIGIL_LOG_LEVEL ?? 'info');
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `5m`, `1h30m`, `250ms` → milliseconds. */
export function parseDuration(text: string, name: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  const joined = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || joined !== text.trim()) throw new Error(`${name}: "${text}" is not a duration (e.g. 30s, 5m, 12h, 30d)`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * UNITS[p[2]], 0);
}

export function parseSize(text: string, name: string): number {
  const m = /^(\d+)(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!m) throw new Error(`${name}: "${text}" is not a size (e.g. 512kb, 32mb)`);
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Number(m[1]) * mult;
}

/** `host:port`, `[::1]:port` or `:port` (all interfaces). */
export function parseListen(text: string, name: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${name}: "${text}" is not host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function resolveServeOptions(raw: RawServeOptions): CollectorOptions {
  if (raw.dataDir && raw.databaseUrl) throw new Error('give either --data-dir or --database-url, not both');
  if (!raw.dataDir && !raw.databaseUrl) throw new Error('a store is needed: --data-dir DIR (SQLite) or --database-url URL (PostgreSQL)');
  if (raw.databaseUrl && !/^postgres(ql)?:\/\//.test(raw.databaseUrl)) throw new Error('--database-url must be a postgres:// URL');
  const http = parseListen(raw.httpListen, '--http-listen');
  let tokens: TokenSet | undefined;
  if (!raw.auth) {
    if (raw.tokens) throw new Error('--no-auth and --tokens contradict each other');
    if (!isLoopbackHost(http.host)) {
      throw new Error(`--no-auth is only allowed on a loopback --http-listen address, not ${http.host}`);
    }
  } else {
    if (!raw.tokens) throw new Error('--tokens FILE is required (or --no-auth on a loopback address for local use)');
    statSync(raw.tokens);
    tokens = loadTokens(readFileSync(raw.tokens, 'utf8'), raw.tokens);
  }
  const sync = raw.sqliteSync.toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') throw new Error('--sqlite-sync must be FULL or NORMAL');
  return {
    dataDir: raw.dataDir,
    databaseUrl: raw.databaseUrl,
    http,
    tokens,
    retentionMs: parseDuration(raw.retention, '--retention'),
    reportIntervalMs: parseDuration(raw.reportInterval, '--report-interval'),
    maxReportBytes: parseSize(raw.maxReportSize, '--max-report-size'),
    correlateIntervalMs: parseDuration(raw.correlateInterval, '--correlate-interval'),
    logLevel: raw.logLevel,
    sqliteSynchronous: sync,
  };
}
