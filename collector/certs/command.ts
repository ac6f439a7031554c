// `vigil-collector certs ensure`: the collector's serving certificate, made where it runs. With --out DIR the
// files go to a directory (any host, tests); with --in-cluster they live in Secrets through the API server (the
// collector pod's init container and a daily CronJob in deploy/). Kept while valid, renewed before expiry.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { X509Certificate } from 'node:crypto';
import { parseDuration } from '../../common/duration.js';
import { createLogger, type Logger } from '../log.js';
import { ensureInCluster } from './cluster-store.js';
import { readDir, writeDir } from './dir-store.js';
import { inClusterConfig, issuerOfToken, KubeClient } from './kube.js';
import { ensureMaterial, type Wanted } from './pki.js';
import { parseMounted, waitMounted, type MountedSecret } from './wait.js';

export const DEFAULTS = {
  service: 'vigil-collector',
  namespace: 'vigil',
  clusterDomain: 'cluster.local',
  dns: ['localhost'],
  ip: ['127.0.0.1'],
  days: 365,
  caDays: 3650,
  caSecret: 'vigil-ca',
  tlsSecret: 'vigil-collector-tls',
  trustConfigMap: 'vigil-trust',
  waitTimeout: '5m',
  /** Renew once less than a third of a certificate's lifetime is left: four months for the one-year default. */
  renewWhenLeft: 1 / 3,
} as const;

interface RawEnsureOptions {
  out?: string;
  inCluster?: boolean;
  service?: string[];
  namespace?: string;
  clusterDomain: string;
  dns?: string[];
  ip?: string[];
  days: number;
  caDays: number;
  caSecret: string;
  tlsSecret: string;
  trustConfigmap: string;
  caFile?: string;
  apiTokensSecret?: string;
  natsUser?: string[];
  waitMounted?: MountedSecret[];
  waitTimeout: number;
  apiServer?: string;
  saDir?: string;
  logLevel?: string;
}

const DAY_MS = 86_400_000;
const collect = <T>(parse: (v: string) => T) => (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];
const asIs = (v: string): string => v;
function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of days, at least 1');
  return n;
}
function argument<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** The DNS names of Services in a namespace, short to fully qualified, as clients in the cluster may dial them. */
export function serviceNames(services: string[], namespace: string, clusterDomain: string): string[] {
  return services.flatMap((s) => [s, `${s}.${namespace}`, `${s}.${namespace}.svc`, `${s}.${namespace}.svc.${clusterDomain}`]);
}

export function certsCommand(): Command {
  const certs = new Command('certs').description("the collector's serving certificate, made in the cluster (or in a directory)");
  certs.command('ensure')
    .description('make the CA and serving certificate when missing, keep them while valid, renew them before they expire')
    .option('--out <dir>', 'keep ca.crt, ca.key, tls.crt and tls.key in this directory (keys 0600)')
    .option('--in-cluster', "keep them in Secrets through the API server, with this pod's ServiceAccount")
    .option('--service <name>', `a Service the certificate names (repeatable; default ${DEFAULTS.service})`, collect(asIs))
    .option('--namespace <ns>', `the Services' namespace (default: the pod's in a cluster, else ${DEFAULTS.namespace})`)
    .option('--cluster-domain <domain>', 'the cluster DNS domain', DEFAULTS.clusterDomain)
    .option('--dns <name>', `another DNS name for the certificate (repeatable; default ${DEFAULTS.dns.join(', ')})`, collect(asIs))
    .option('--ip <address>', `an IP address for the certificate (repeatable; default ${DEFAULTS.ip.join(', ')})`, collect(asIs))
    .option('--days <n>', 'validity of the serving certificate', positiveInt, DEFAULTS.days)
    .option('--ca-days <n>', 'validity of the CA', positiveInt, DEFAULTS.caDays)
    .option('--ca-secret <name>', 'in-cluster: Secret with the CA certificate and key', DEFAULTS.caSecret)
    .option('--tls-secret <name>', 'in-cluster: Secret with the serving certificate (type kubernetes.io/tls)', DEFAULTS.tlsSecret)
    .option('--trust-configmap <name>', 'in-cluster: ConfigMap with what clients trust (ca.crt) and the token issuer', DEFAULTS.trustConfigMap)
    .option('--ca-file <file>', 'in-cluster: publish this CA bundle and issue nothing (certificates from cert-manager)')
    .option('--api-tokens-secret <name>', 'in-cluster: also keep a Secret with tokens.txt holding one generated read token')
    .option('--nats-user <name>', 'in-cluster: also keep an nkey for this NATS user (repeatable): Secret vigil-nats-<name>', collect(asIs))
    .option('--wait-mounted <secret=dir>', 'in-cluster: then wait until the kubelet shows that Secret\'s data in DIR (repeatable)', collect(argument(parseMounted)))
    .option('--wait-timeout <duration>', 'how long --wait-mounted waits', argument(parseDuration), parseDuration(DEFAULTS.waitTimeout))
    .option('--api-server <url>', 'in-cluster: the API server (default: from KUBERNETES_SERVICE_HOST/PORT)')
    .option('--sa-dir <dir>', 'in-cluster: the ServiceAccount mount (token, ca.crt, namespace)')
    .option('--log-level <level>', 'pino log level', process.env.VIGIL_LOG_LEVEL ?? 'info')
    .action(async (raw: RawEnsureOptions, cmd: Command) => {
      const fail = (message: string, code: number): void => {
        process.stderr.write(`vigil-collector certs ensure: ${message}\n`);
        process.exitCode = code;
      };
      if (Boolean(raw.out) === Boolean(raw.inCluster)) return fail('give exactly one of --out DIR and --in-cluster', 2);
      const clusterOnly = ['caFile', 'apiTokensSecret', 'natsUser', 'waitMounted', 'apiServer', 'saDir'] as const;
      const misplaced = raw.out ? clusterOnly.filter((k) => raw[k] !== undefined) : [];
      if (misplaced.length) return fail(`${misplaced.map((k) => cmd.options.find((o) => o.attributeName() === k)!.long).join(', ')}: only with --in-cluster`, 2);
      const log = createLogger(raw.logLevel);
      try {
        const lines = raw.out ? ensureDir(raw, raw.out) : await ensureCluster(raw, log);
        process.stdout.write(lines.map((l) => `${l}\n`).join(''));
      } catch (err) {
        log.error({ err }, 'certs ensure failed');
        fail((err as Error).message, 1);
      }
    });
  return certs;
}

function wantedFrom(raw: RawEnsureOptions, namespace: string): Wanted {
  const dnsNames = [...serviceNames(raw.service ?? [DEFAULTS.service], namespace, raw.clusterDomain), ...(raw.dns ?? DEFAULTS.dns)];
  return {
    // The name agents dial (<service>.<namespace>.svc) heads the list and is the subject.
    commonName: dnsNames[2],
    dnsNames: [...new Set(dnsNames)],
    ipAddresses: [...new Set(raw.ip ?? DEFAULTS.ip)],
    servingValidityMs: raw.days * DAY_MS,
    caValidityMs: raw.caDays * DAY_MS,
    renewWhenLeft: DEFAULTS.renewWhenLeft,
  };
}

function ensureDir(raw: RawEnsureOptions, dir: string): string[] {
  const now = new Date();
  const result = ensureMaterial(readDir(dir), wantedFrom(raw, raw.namespace ?? DEFAULTS.namespace), now);
  const written = writeDir(dir, result.material, now);
  return [
    `ca: ${result.ca} (valid until ${validTo(result.material.ca.cert)})`,
    `serving certificate: ${result.serving} (valid until ${validTo(result.material.serving.cert)})`,
    ...result.reasons.map((r) => `  because ${r}`),
    written.length ? `wrote ${written.join(', ')} in ${dir}` : `nothing to change in ${dir}`,
  ];
}

async function ensureCluster(raw: RawEnsureOptions, log: Logger): Promise<string[]> {
  const config = inClusterConfig({ saDir: raw.saDir, server: raw.apiServer });
  const client = new KubeClient(config);
  const issuer = issuerOfToken(readFileSync(config.tokenFile, 'utf8'));
  const result = await ensureInCluster(client, {
    names: {
      caSecret: raw.caSecret,
      tlsSecret: raw.tlsSecret,
      trustConfigMap: raw.trustConfigmap,
      apiTokensSecret: raw.apiTokensSecret,
      natsUsers: raw.natsUser ?? [],
    },
    wanted: wantedFrom(raw, raw.namespace ?? config.namespace),
    externalCa: raw.caFile === undefined ? undefined : readFileSync(raw.caFile, 'utf8'),
    issuer,
    now: () => new Date(),
    log,
  });
  if (raw.waitMounted?.length) await waitMounted(raw.waitMounted, result.secrets, { timeoutMs: raw.waitTimeout, log });
  return [
    `ca: ${result.ca}`,
    `serving certificate: ${result.serving}`,
    `ServiceAccount issuer: ${issuer}`,
    result.written.length ? `wrote ${result.written.join(', ')} in namespace ${config.namespace}` : `nothing to change in namespace ${config.namespace}`,
  ];
}

function validTo(pem: string): string {
  return new Date(new X509Certificate(pem).validTo).toISOString();
}
