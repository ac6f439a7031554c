// `certs ensure --in-cluster`: the collector's CA and serving certificate kept in Secrets, what agents must trust
// published in a ConfigMap, and (optionally) the REST read token and NATS nkeys made once. Every object is read,
// changed only when needed, and written with the resourceVersion that was read: when collector replicas start
// together, the one that loses a race (409) reads again and takes the winner's material.
import { randomBytes } from 'node:crypto';
import { nkeys } from 'nats';
import type { Logger } from 'pino';
import { isConflict, type Kind, type KubeClient, type KubeObject } from './kube.js';
import { ensureMaterial, splitPem, trustBundle, type Outcome, type Wanted } from './pki.js';

interface ClusterNames {
  caSecret: string;
  tlsSecret: string;
  trustConfigMap: string;
  /** A Secret holding tokens.txt for `vigil-collector serve --tokens`, made with one read token when missing. */
  apiTokensSecret?: string;
  /** NATS users that get an nkey: Secret `vigil-nats-<user>` (key `seed`), public key in the trust ConfigMap. */
  natsUsers: string[];
}

interface ClusterEnsureOptions {
  names: ClusterNames;
  /** What the serving certificate must be; ignored when `externalCa` is given. */
  wanted: Wanted;
  /** PEM CA bundle of certificates made elsewhere (cert-manager): published as is, nothing is issued here. */
  externalCa?: string;
  /** The cluster's ServiceAccount token issuer, published for `vigil-collector serve --sa-issuer`. */
  issuer: string;
  now: () => Date;
  log: Logger;
}

interface ClusterEnsureResult {
  ca: Outcome | 'external';
  serving: Outcome | 'external';
  /** `kind/name` of each object created or updated. */
  written: string[];
  /** The data of every Secret this run manages, decoded, as it now stands in the API (for --wait-mounted). */
  secrets: Map<string, Record<string, Buffer>>;
}

/** Trust ConfigMap keys. Agents mount only `ca.crt`; the collector reads `sa-issuer`; NATS reads the nkeys. */
export const TRUST_KEYS = { ca: 'ca.crt', issuer: 'sa-issuer', natsNkey: (user: string) => `nats-${user}-nkey` } as const;
export const natsSecretName = (user: string): string => `vigil-nats-${user}`;
const LABELS = { 'app.kubernetes.io/part-of': 'vigil', 'app.kubernetes.io/managed-by': 'vigil-collector-certs' };
const ATTEMPTS = 5;

export async function ensureInCluster(client: KubeClient, opts: ClusterEnsureOptions): Promise<ClusterEnsureResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureOnce(client, opts);
    } catch (err) {
      if (!isConflict(err) || attempt >= ATTEMPTS) throw err;
      opts.log.info({ attempt }, 'another writer changed an object first; reading again');
    }
  }
}

async function ensureOnce(client: KubeClient, opts: ClusterEnsureOptions): Promise<ClusterEnsureResult> {
  const { names, log } = opts;
  const now = opts.now();
  const written: string[] = [];
  const secrets = new Map<string, Record<string, Buffer>>();
  const put = async (kind: Kind, name: string, existing: KubeObject | undefined, data: Record<string, string>, type?: string): Promise<Record<string, string>> => {
    const encode = kind === 'secrets' ? (v: string) => Buffer.from(v).toString('base64') : (v: string) => v;
    const wantedData = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, encode(v)]));
    const merged = { ...(existing?.data ?? {}), ...wantedData };
    if (existing && Object.entries(wantedData).every(([k, v]) => existing.data?.[k] === v)) return merged;
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: kind === 'secrets' ? 'Secret' : 'ConfigMap',
      metadata: existing ? { ...existing.metadata } : { name, namespace: client.namespace, labels: LABELS },
      ...(type ? { type: existing?.type ?? type } : {}),
      data: merged,
    };
    await (existing ? client.update(kind, object) : client.create(kind, object));
    written.push(`${kind === 'secrets' ? 'secret' : 'configmap'}/${name}`);
    log.info({ kind: object.kind, name, created: !existing }, existing ? 'updated' : 'created');
    return merged;
  };
  const remember = (name: string, data: Record<string, string>): void => {
    secrets.set(name, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')])));
  };

  // NATS nkeys: the seed stays in its Secret; only the public key is published.
  const trust: Record<string, string> = { [TRUST_KEYS.issuer]: opts.issuer };
  for (const user of names.natsUsers) {
    const name = natsSecretName(user);
    const existing = await client.get('secrets', name);
    const stored = decode(existing?.data?.seed);
    let key = stored ? keyOfSeed(stored) : undefined;
    if (!key) {
      if (existing) log.warn({ name }, 'the stored NATS seed is unreadable; making a new one');
      const pair = nkeys.createUser();
      key = { seed: new TextDecoder().decode(pair.getSeed()), publicKey: pair.getPublicKey() };
    }
    remember(name, await put('secrets', name, existing, { seed: key.seed }));
    trust[TRUST_KEYS.natsNkey(user)] = key.publicKey;
  }

  let ca: ClusterEnsureResult['ca'] = 'external';
  let serving: ClusterEnsureResult['serving'] = 'external';
  if (opts.externalCa !== undefined) {
    if (splitPem(opts.externalCa).length === 0) throw new Error('the CA file holds no PEM certificate');
    trust[TRUST_KEYS.ca] = opts.externalCa;
    await putTrust(client, names.trustConfigMap, trust, put);
  } else {
    const [caSecret, tlsSecret] = [await client.get('secrets', names.caSecret), await client.get('secrets', names.tlsSecret)];
    const result = ensureMaterial({
      caBundle: decode(caSecret?.data?.['ca.crt']),
      caKey: decode(caSecret?.data?.['ca.key']),
      serving: { cert: decode(tlsSecret?.data?.['tls.crt']), key: decode(tlsSecret?.data?.['tls.key']) },
    }, opts.wanted, now);
    ({ ca, serving } = result);
    if (result.reasons.length) log.info({ reasons: result.reasons }, 'certificates made anew');
    const bundle = trustBundle(result.material, now);
    // Order matters for clients: the CA bundle is published before a serving certificate it must verify.
    await put('secrets', names.caSecret, caSecret, { 'ca.crt': bundle, 'ca.key': result.material.ca.key });
    trust[TRUST_KEYS.ca] = bundle;
    await putTrust(client, names.trustConfigMap, trust, put);
    remember(names.tlsSecret, await put('secrets', names.tlsSecret, tlsSecret, {
      'ca.crt': bundle, 'tls.crt': result.material.serving.cert, 'tls.key': result.material.serving.key,
    }, 'kubernetes.io/tls'));
  }

  if (names.apiTokensSecret) {
    const existing = await client.get('secrets', names.apiTokensSecret);
    const data: Record<string, string> = existing?.data?.['tokens.txt'] ? {} : { 'tokens.txt': newTokensFile() };
    remember(names.apiTokensSecret, await put('secrets', names.apiTokensSecret, existing, data));
  }
  return { ca, serving, written, secrets };
}

type Put = (kind: Kind, name: string, existing: KubeObject | undefined, data: Record<string, string>) => Promise<Record<string, string>>;

async function putTrust(client: KubeClient, name: string, data: Record<string, string>, put: Put): Promise<void> {
  await put('configmaps', name, await client.get('configmaps', name), data);
}

/** A tokens file for `serve --tokens` with one read token (256 random bits). More lines can be added by hand. */
function newTokensFile(): string {
  return [
    '# vigil-collector serve --tokens: "<token> <roles> [nodes=...]" per line. Made once by `vigil-collector certs ensure`;',
    '# edit the Secret to add or rotate tokens (kept as they are from then on), then restart the collector.',
    `${randomBytes(32).toString('hex')} read`,
    '',
  ].join('\n');
}

function decode(base64: string | undefined): string | undefined {
  return base64 === undefined ? undefined : Buffer.from(base64, 'base64').toString('utf8');
}

/** A user nkey's seed and public key, or undefined when the text is not a user seed. */
function keyOfSeed(text: string): { seed: string; publicKey: string } | undefined {
  const seed = text.trim();
  try {
    const publicKey = nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
    return publicKey.startsWith('U') ? { seed, publicKey } : undefined;
  } catch {
    return undefined;
  }
}
