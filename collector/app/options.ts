// Every `vigil-collector serve` option in one place: declared for commander, then resolved and checked into
// CollectorOptions, which startCollector (and the tests) take. The streaming transports' options are declared and
// checked by collector/ingest/transports.ts; they are carried through as given.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { isLoopbackHost, parseHostPort } from '../../common/address.js';
import { parseDuration } from '../../common/duration.js';
import { parseSize } from '../../common/size.js';
import { inClusterAvailable } from '../cluster/kubeconfig.js';
import type { ServiceAccountOptions } from '../ingest/service-accounts.js';
import type { TransportOptions } from '../ingest/transports/index.js';
import { loadTokens, type TokenSet } from '../serve/auth.js';
import { readTlsPair, type HttpTlsFiles } from './http-tls.js';

export interface CollectorOptions {
  dataDir?: string;
  databaseUrl?: string;
  http: { host: string; port: number };
  /** HTTPS on the REST, metrics and health listener; the files are read again while running (see http-tls.ts). */
  httpTls?: HttpTlsFiles;
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
  /** gRPC and NATS ingest; none when absent (the REST ingest route is always there). */
  transports?: TransportOptions;
  /** Reading the Kubernetes API (cluster findings, RBAC); off when absent. */
  kube?: KubeSetting;
  /** Agents' ServiceAccount tokens are verified with these (--sa-*); none accepted when absent. */
  serviceAccounts?: Omit<ServiceAccountOptions, 'log'>;
}

/** Where the Kubernetes API is read from: the pod's in-cluster config, or a kubeconfig file (and context). */
export type KubeSetting = { source: 'in-cluster' } | { source: 'kubeconfig'; path: string; context?: string };

const DEFAULT_SA_AUDIENCE = 'vigil';
const DEFAULT_SA_SUBJECT = 'system:serviceaccount:vigil:vigil-agent';
/** The collector's own ServiceAccount token in a pod: the bearer for the API server's JWKS. */
const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export const SILENT_AFTER_INTERVALS = 3;

/**
 * The default --max-report-size: 5,000 findings of 1.6 KiB each as the agent prints them (pretty JSON), where a real
 * finding takes 0.4 to 1.2 KiB. Larger nodes report over gRPC or NATS, or the operator raises it; a smaller limit also
 * bounds what one parse of a hostile body can allocate.
 */
const REPORT_SIZE_FITS = 5_000;
const DEFAULT_MAX_REPORT_SIZE = '8Mi';

/** Raw values as commander hands them over. */
export interface RawServeOptions {
  dataDir?: string;
  databaseUrl?: string;
  httpListen: string;
  httpTlsCert?: string;
  httpTlsKey?: string;
  tokens?: string;
  auth: boolean;
  retention: string;
  reportInterval: string;
  maxReportSize: string;
  correlateInterval: string;
  logLevel: string;
  sqliteSync: string;
  kubeconfig?: string;
  kubeContext?: string;
  /** False with --no-kube (commander sets it; absent means true). */
  kube?: boolean;
  saIssuer?: string;
  saJwksFile?: string;
  saJwksUrl?: string;
  saJwksCa?: string;
  saJwksTokenFile?: string;
  saAudience?: string;
  saSubject?: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'SQLite store directory (the embedded default)')
    .option('--database-url <url>', 'PostgreSQL URL (postgres://user@host:port/db) instead of SQLite')
    .option('--http-listen <addr>', 'REST, metrics and health address (host:port)', '127.0.0.1:8080')
    .option('--http-tls-cert <file>', 'serve --http-listen over HTTPS with this certificate (PEM; reloaded when the file changes)')
    .option('--http-tls-key <file>', 'the key of --http-tls-cert (PEM)')
    .option('--tokens <file>', 'bearer tokens: one "<token> <roles>" per line, roles read and/or report')
    .option('--no-auth', 'serve without authentication (refused unless --http-listen is a loopback address)')
    .option('--retention <duration>', 'delete resolved findings after this long (e.g. 30d, 12h)', '30d')
    .option('--report-interval <duration>', "the agents' report interval; silent after 3 missed", '5m')
    .option('--max-report-size <size>', `largest report body POST /api/v1/reports accepts (a byte count, 8Mi, 16MB); the default fits ${REPORT_SIZE_FITS.toLocaleString('en')} findings`, DEFAULT_MAX_REPORT_SIZE)
    .option('--correlate-interval <duration>', 'least time between correlation runs while reports arrive', '5s')
    .addOption(new Option('--sqlite-sync <mode>', 'SQLite synchronous mode').choices(['FULL', 'NORMAL']).default('FULL'))
    .option('--kubeconfig <file>', 'read the Kubernetes API with this kubeconfig (default: the in-cluster config, when in a pod)')
    .option('--kube-context <name>', 'the kubeconfig context to use (default: its current-context)')
    .option('--no-kube', 'do not read the Kubernetes API (no cluster findings, no RBAC)')
    .option('--sa-issuer <url>', "verify agents' ServiceAccount tokens: the cluster's token issuer (iss)")
    .option('--sa-jwks-file <file>', "the API server's signing keys as a JWKS file (re-read when it changes)")
    .option('--sa-jwks-url <url>', "the API server's JWKS URL (https://kubernetes.default.svc/openid/v1/jwks), fetched on an unknown key and every 10m")
    .option('--sa-jwks-ca <file>', 'CA bundle for --sa-jwks-url')
    .option('--sa-jwks-token-file <file>', `bearer token for --sa-jwks-url (default: ${IN_CLUSTER_TOKEN} when it exists)`)
    .option('--sa-audience <aud>', 'audience agents\' tokens are made for', DEFAULT_SA_AUDIENCE)
    .option('--sa-subject <name>', `an allowed agent ServiceAccount, system:serviceaccount:NS:NAME; repeatable (default ${DEFAULT_SA_SUBJECT})`, collect)
    .option('--log-level <level>', 'pino log level', process.env.VIGIL_LOG_LEVEL ?? 'info');
}

/** The value of option `name`, or an error that names the option and what was given. */
function parsed<T>(name: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `host:port`, `[::1]:port` or `:port` (every interface). */
function listenAddress(text: string): { host: string; port: number } {
  const { host, port } = parseHostPort(text);
  return { host: host || '0.0.0.0', port };
}

export function resolveServeOptions(raw: RawServeOptions & TransportOptions): CollectorOptions {
  if (raw.dataDir && raw.databaseUrl) throw new Error('give either --data-dir or --database-url, not both');
  if (!raw.dataDir && !raw.databaseUrl) throw new Error('a store is needed: --data-dir DIR (SQLite) or --database-url URL (PostgreSQL)');
  if (raw.databaseUrl && !/^postgres(ql)?:\/\//.test(raw.databaseUrl)) throw new Error('--database-url must be a postgres:// URL');
  const http = parsed('--http-listen', raw.httpListen, listenAddress);
  if (Boolean(raw.httpTlsCert) !== Boolean(raw.httpTlsKey)) throw new Error('--http-tls-cert and --http-tls-key go together');
  const httpTls = raw.httpTlsCert && raw.httpTlsKey ? { certFile: raw.httpTlsCert, keyFile: raw.httpTlsKey } : undefined;
  if (httpTls) readTlsPair(httpTls);
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
  const serviceAccounts = resolveServiceAccounts(raw);
  const sync = raw.sqliteSync.toUpperCase();
  const kube = kubeSetting(raw);
  if (sync !== 'FULL' && sync !== 'NORMAL') throw new Error('--sqlite-sync must be FULL or NORMAL');
  return {
    dataDir: raw.dataDir,
    databaseUrl: raw.databaseUrl,
    http,
    httpTls,
    tokens,
    retentionMs: parsed('--retention', raw.retention, parseDuration),
    reportIntervalMs: parsed('--report-interval', raw.reportInterval, parseDuration),
    maxReportBytes: parsed('--max-report-size', raw.maxReportSize, parseSize),
    correlateIntervalMs: parsed('--correlate-interval', raw.correlateInterval, parseDuration),
    logLevel: raw.logLevel,
    sqliteSynchronous: sync,
    // Checked by startTransports, which owns them.
    transports: raw,
    ...(kube ? { kube } : {}),
    serviceAccounts,
  };
}

function resolveServiceAccounts(raw: RawServeOptions): CollectorOptions['serviceAccounts'] {
  if (!raw.saIssuer) {
    const stray = (['saJwksFile', 'saJwksUrl', 'saJwksCa', 'saJwksTokenFile', 'saSubject'] as const).filter((k) => raw[k] !== undefined);
    if (stray.length) throw new Error('--sa-jwks-file, --sa-jwks-url, --sa-jwks-ca, --sa-jwks-token-file and --sa-subject need --sa-issuer');
    return undefined;
  }
  if (!/^https?:\/\/\S+$/.test(raw.saIssuer)) throw new Error(`--sa-issuer: ${JSON.stringify(raw.saIssuer)} is not a URL`);
  if (Boolean(raw.saJwksFile) === Boolean(raw.saJwksUrl)) throw new Error('--sa-issuer needs the signing keys: --sa-jwks-file or --sa-jwks-url (one of them)');
  if (raw.saJwksUrl && !/^https:\/\//.test(raw.saJwksUrl)) throw new Error(`--sa-jwks-url must be an https:// URL, not ${raw.saJwksUrl}`);
  for (const [flag, file] of [['--sa-jwks-file', raw.saJwksFile], ['--sa-jwks-ca', raw.saJwksCa], ['--sa-jwks-token-file', raw.saJwksTokenFile]]) {
    if (file && !existsSync(file)) throw new Error(`${flag}: no file ${file}`);
  }
  const subjects = raw.saSubject?.length ? raw.saSubject : [DEFAULT_SA_SUBJECT];
  const bad = subjects.filter((s) => !/^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/.test(s));
  if (bad.length) throw new Error(`--sa-subject: ${bad.join(', ')} is not system:serviceaccount:NAMESPACE:NAME`);
  return {
    issuer: raw.saIssuer, audience: raw.saAudience ?? DEFAULT_SA_AUDIENCE, subjects,
    jwksFile: raw.saJwksFile, jwksUrl: raw.saJwksUrl, jwksCa: raw.saJwksCa,
    jwksTokenFile: raw.saJwksTokenFile ?? (raw.saJwksUrl && existsSync(IN_CLUSTER_TOKEN) ? IN_CLUSTER_TOKEN : undefined),
  };
}

/**
 * The API is read when --kubeconfig names a file, or, without it, when the collector runs in a pod (the in-cluster
 * config: the ServiceAccount token and KUBERNETES_SERVICE_HOST). --no-kube turns it off either way.
 */
function kubeSetting(raw: Pick<RawServeOptions, 'kube' | 'kubeconfig' | 'kubeContext'>): KubeSetting | undefined {
  if (raw.kubeContext !== undefined && raw.kubeconfig === undefined) throw new Error('--kube-context needs --kubeconfig');
  if (raw.kube === false) {
    if (raw.kubeconfig !== undefined) throw new Error('--no-kube and --kubeconfig contradict each other');
    return undefined;
  }
  if (raw.kubeconfig !== undefined) {
    const path = parsed('--kubeconfig', raw.kubeconfig, (p) => { statSync(p); return p; });
    return { source: 'kubeconfig', path, ...(raw.kubeContext ? { context: raw.kubeContext } : {}) };
  }
  return inClusterAvailable() ? { source: 'in-cluster' } : undefined;
}
