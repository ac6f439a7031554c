// Agents' projected ServiceAccount tokens, verified here against the API server's signing keys (no call per
// report): signature (RS256/ES256), issuer, audience, exp/nbf with a small leeway, an allowed subject, and the
// node the token is bound to (`kubernetes.io.node.name`, Kubernetes 1.30+). Keys come from a JWKS file or the
// API server's /openid/v1/jwks, fetched again on an unknown key id and periodically. Verified tokens are kept
// by their hash until they expire.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Logger } from 'pino';

export interface ServiceAccountOptions {
  /** Expected `iss`. */
  issuer: string;
  /** Expected in `aud`. */
  audience: string;
  /** Allowed `sub` values: `system:serviceaccount:NS:NAME`. */
  subjects: readonly string[];
  jwksFile?: string;
  jwksUrl?: string;
  /** CA bundle (PEM file) for the JWKS URL's certificate; the system's CAs otherwise. */
  jwksCa?: string;
  /** Bearer token sent when fetching the JWKS (the collector's own ServiceAccount token), read at every fetch. */
  jwksTokenFile?: string;
  /** Keys are fetched (or the file re-read) at least this often. */
  refreshMs?: number;
  /** Leeway for exp and nbf, seconds. */
  clockToleranceSec?: number;
  log: Logger;
}

/** What a verified token says about its holder. */
export interface ServiceAccountIdentity {
  /** `system:serviceaccount:NS:NAME`. */
  subject: string;
  /** The node the token is bound to: the only node its holder may speak for. */
  node: string;
  pod?: string;
  /** The token's id (`jti`): which credential it was, for logs (as the API server's credential-id). */
  jti?: string;
  /** When the token stops being valid (ms). */
  expiresAt: number;
}

/** Why a token was refused; `reason` is the metrics label. */
export class TokenRefused extends Error {
  override name = 'TokenRefused';
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/** The keys could not be had (the JWKS endpoint is down): not the token's fault, try again later. */
export class KeysUnavailable extends Error {
  override name = 'KeysUnavailable';
}

const ALGORITHMS = ['RS256', 'ES256'];
const FETCH_TIMEOUT_MS = 5_000;
const MAX_JWKS_BYTES = 1024 * 1024;
/** Least time between two fetches caused by unknown key ids (a stream of forged kids must not hammer the API server). */
const REFETCH_COOLDOWN_MS = 10_000;
const MAX_CACHED = 10_000;

/** `eyJ…` three dot-separated base64url parts: a JWT, as opposed to a static REST token. */
export const looksLikeJwt = (token: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

function readJwks(text: string, source: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${source}: not JSON`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new Error(`${source}: not a JWKS (no "keys" list)`);
  return parsed as JSONWebKeySet;
}

function fetchJwks(url: URL, ca: Buffer | undefined, bearer: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/jwk-set+json, application/json' };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const req = request(url, { method: 'GET', headers, ca, timeout: FETCH_TIMEOUT_MS }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url.href}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_JWKS_BYTES) req.destroy(new Error(`GET ${url.href}: JWKS larger than ${MAX_JWKS_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.href}: no answer in ${FETCH_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The signing keys, from a file or a URL, reloaded when stale or when a token names a key they lack. */
class KeySource {
  private keys?: ReturnType<typeof createLocalJWKSet>;
  private loadedAt = 0;
  private attemptedAt = 0;
  private fileStamp = '';
  private loading?: Promise<void>;
  private readonly ca?: Buffer;

  constructor(private readonly opts: ServiceAccountOptions) {
    if (opts.jwksUrl && !/^https:\/\//i.test(opts.jwksUrl)) throw new Error(`--sa-jwks-url must be an https:// URL, not ${opts.jwksUrl}`);
    this.ca = opts.jwksCa ? readFileSync(opts.jwksCa) : undefined;
  }

  private get refreshMs(): number { return this.opts.refreshMs ?? 10 * 60_000; }

  /** Loads the keys now; a JWKS file that cannot be read throws (the collector refuses to start). */
  async start(): Promise<void> {
    if (this.opts.jwksFile) {
      this.readFile(true);
      return;
    }
    await this.reload().catch((err: unknown) =>
      this.opts.log.warn({ err, url: this.opts.jwksUrl }, 'ServiceAccount signing keys not fetched yet; tokens wait until they are'));
  }

  private readFile(force: boolean): void {
    const file = this.opts.jwksFile!;
    const st = statSync(file);
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (!force && stamp === this.fileStamp) return;
    this.keys = createLocalJWKSet(readJwks(readFileSync(file, 'utf8'), file));
    this.fileStamp = stamp;
    this.loadedAt = Date.now();
  }

  private reload(): Promise<void> {
    this.loading ??= (async () => {
      this.attemptedAt = Date.now();
      try {
        if (this.opts.jwksFile) {
          this.readFile(false);
          return;
        }
        const tokenFile = this.opts.jwksTokenFile;
        const bearer = tokenFile && existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined;
        const url = new URL(this.opts.jwksUrl!);
        this.keys = createLocalJWKSet(readJwks(await fetchJwks(url, this.ca, bearer), url.href));
        this.loadedAt = Date.now();
        this.opts.log.info({ url: url.href }, 'ServiceAccount signing keys loaded');
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** The key set for a verification: reloaded first when there is none, in the background when it is old. */
  async current(): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (!this.keys) {
      await this.reload().catch((err: unknown) => { throw new KeysUnavailable(`ServiceAccount signing keys unavailable: ${(err as Error).message}`); });
    } else if (Date.now() - this.loadedAt > this.refreshMs) {
      this.reload().catch((err: unknown) => this.opts.log.warn({ err }, 'ServiceAccount signing keys not refreshed; keeping the old ones'));
    }
    return this.keys!;
  }

  /** A token names a key we lack: reload once (not more often than the cooldown) and say whether anything changed. */
  async refreshForUnknownKey(): Promise<boolean> {
    if (Date.now() - this.attemptedAt < REFETCH_COOLDOWN_MS && !this.opts.jwksFile) return false;
    const before = this.keys;
    await this.reload().catch((err: unknown) => this.opts.log.warn({ err }, 'ServiceAccount signing keys not refreshed'));
    return this.keys !== before;
  }
}

const nodeClaim = (payload: JWTPayload): { node?: string; pod?: string } => {
  const k8s = payload['kubernetes.io'] as { node?: { name?: unknown }; pod?: { name?: unknown } } | undefined;
  const name = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return { node: name(k8s?.node?.name), pod: name(k8s?.pod?.name) };
};

function refusal(err: unknown): TokenRefused {
  if (err instanceof TokenRefused) return err;
  if (err instanceof errors.JWTExpired) return new TokenRefused('token-expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = err.claim === 'aud' ? 'audience' : err.claim === 'iss' ? 'issuer' : err.claim;
    return new TokenRefused(`token-${err.reason === 'missing' ? 'invalid' : claim}`, `token ${err.message}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRefused('token-signature', 'token signature does not verify');
  if (err instanceof errors.JWKSNoMatchingKey) return new TokenRefused('token-unknown-key', 'token signed with a key the cluster does not publish');
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenRefused('token-algorithm', 'token algorithm not allowed (RS256, ES256)');
  if (err instanceof errors.JOSEError) return new TokenRefused('token-invalid', `token invalid: ${err.message}`);
  throw err;
}

export class ServiceAccountVerifier {
  private readonly keys: KeySource;
  private readonly cache = new Map<string, ServiceAccountIdentity>();

  constructor(private readonly opts: ServiceAccountOptions) {
    if (!opts.jwksFile === !opts.jwksUrl) throw new Error('ServiceAccount tokens need exactly one of --sa-jwks-file and --sa-jwks-url');
    if (opts.subjects.length === 0) throw new Error('--sa-subject: at least one allowed subject');
    this.keys = new KeySource(opts);
  }

  start(): Promise<void> {
    return this.keys.start();
  }

  /** The identity a token proves. Throws TokenRefused (the token is not good), or KeysUnavailable (try later). */
  async verify(token: string): Promise<ServiceAccountIdentity> {
    const hash = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(hash);
    if (cached && cached.expiresAt > Date.now()) return cached;
    if (cached) this.cache.delete(hash);
    if (!looksLikeJwt(token)) throw new TokenRefused('token-invalid', 'not a JSON Web Token');
    let payload: JWTPayload;
    try {
      payload = await this.verifyWithKeys(token);
    } catch (err) {
      throw refusal(err);
    }
    const subject = payload.sub!;
    if (!this.opts.subjects.includes(subject)) {
      throw new TokenRefused('token-subject', `token subject ${subject} is not an allowed agent (${this.opts.subjects.join(', ')})`);
    }
    const { node, pod } = nodeClaim(payload);
    if (!node) throw new TokenRefused('token-no-node', 'token names no node (kubernetes.io.node.name; Kubernetes 1.30 or later)');
    const jti = typeof payload.jti === 'string' ? payload.jti : undefined;
    const identity: ServiceAccountIdentity = { subject, node, pod, jti, expiresAt: payload.exp! * 1000 };
    this.remember(hash, identity);
    return identity;
  }

  private async verifyWithKeys(token: string): Promise<JWTPayload> {
    const options = {
      issuer: this.opts.issuer, audience: this.opts.audience, algorithms: ALGORITHMS,
      clockTolerance: this.opts.clockToleranceSec ?? 30, requiredClaims: ['exp', 'sub'],
    };
    try {
      return (await jwtVerify(token, await this.keys.current(), options)).payload;
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !(await this.keys.refreshForUnknownKey())) throw err;
      return (await jwtVerify(token, await this.keys.current(), options)).payload;
    }
  }

  private remember(hash: string, identity: ServiceAccountIdentity): void {
    if (this.cache.size >= MAX_CACHED) {
      const now = Date.now();
      for (const [k, v] of this.cache) if (v.expiresAt <= now) this.cache.delete(k);
      // Still full: drop the oldest entries (a Map iterates in insertion order).
      for (const k of this.cache.keys()) {
        if (this.cache.size < MAX_CACHED) break;
        this.cache.delete(k);
      }
    }
    this.cache.set(hash, identity);
  }
}
