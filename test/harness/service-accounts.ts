// A stand-in for the Kubernetes API server's ServiceAccount token issuer: RS256 and ES256 signing keys made
// here, their JWKS exactly as the API server publishes it (kid = base64url(SHA-256(SPKI DER)), use "sig", alg),
// projected tokens with the claim layout a 1.30+ API server issues for a pod-bound token (aud as an array,
// iat = nbf, jti, kubernetes.io.{namespace, node, pod, serviceaccount}), and an HTTPS server standing in for its
// /openid/v1/jwks endpoint (it records the bearer tokens it is sent).
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { exportJWK, SignJWT, type JWK } from 'jose';

export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const AUDIENCE = 'vigil';
export const AGENT_SUBJECT = 'system:serviceaccount:vigil:vigil-agent';

export interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: KeyObject;
  jwk: JWK;
}

/** A signing key as the API server would have one: the kid derived from its public key. */
export async function signingKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
  const jwk = { use: 'sig', ...(await exportJWK(publicKey)), kid, alg };
  return { alg, kid, privateKey, jwk };
}

/** The JWKS document: `{"keys":[…]}` with each key as the API server lists it. */
const jwks = (keys: readonly SigningKey[]): { keys: JWK[] } => ({ keys: keys.map((k) => k.jwk) });

interface TokenSpec {
  node?: string | null;
  pod?: string;
  subject?: string;
  issuer?: string;
  audience?: string[];
  /** Seconds from now. */
  expiresIn?: number;
  /** Seconds from now (negative: in the past). */
  issuedAt?: number;
}

/** A projected ServiceAccount token for a pod of the agent DaemonSet on `node` (null: a token without node info). */
export async function projectedToken(key: SigningKey, spec: TokenSpec = {}): Promise<{ token: string; jti: string }> {
  const now = Math.floor(Date.now() / 1000) + (spec.issuedAt ?? 0);
  const jti = randomUUID();
  const subject = spec.subject ?? AGENT_SUBJECT;
  const [, namespace, name] = /^system:serviceaccount:([^:]+):(.+)$/.exec(subject) ?? [, 'vigil', 'vigil-agent'];
  const k8s: Record<string, unknown> = {
    namespace,
    pod: { name: spec.pod ?? `vigil-agent-${(spec.node ?? 'x').slice(0, 20)}`, uid: randomUUID() },
    serviceaccount: { name, uid: randomUUID() },
  };
  if (spec.node !== null) k8s.node = { name: spec.node ?? 'node-a', uid: randomUUID() };
  const token = await new SignJWT({ 'kubernetes.io': k8s })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(spec.issuer ?? ISSUER)
    .setSubject(subject)
    .setAudience(spec.audience ?? [AUDIENCE])
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (spec.expiresIn ?? 3600))
    .setJti(jti)
    .sign(key.privateKey);
  return { token, jti };
}

/** The same token with one character of its signature changed. */
export function tamperedSignature(token: string): string {
  const [h, p, s] = token.split('.');
  const flipped = (s[5] === 'A' ? 'B' : 'A');
  return `${h}.${p}.${s.slice(0, 5)}${flipped}${s.slice(6)}`;
}

export function writeJwksFile(path: string, keys: readonly SigningKey[]): void {
  writeFileSync(path, JSON.stringify(jwks(keys)));
}

export interface JwksEndpoint {
  url: string;
  /** The Authorization headers of the requests so far. */
  requests: Array<string | undefined>;
  /** Changes the keys served from now on (the API server's key rotation). */
  serve(keys: readonly SigningKey[]): void;
  close(): Promise<void>;
}

/**
 * An HTTPS server standing in for the API server's `/openid/v1/jwks` (the collector cannot reach a real one here):
 * it serves the JWKS with the API server's content type, and only to a caller with the expected bearer token.
 */
export async function startJwksEndpoint(tls: { cert: string; key: string }, keys: readonly SigningKey[], bearer: string): Promise<JwksEndpoint> {
  let served = jwks(keys);
  const requests: Array<string | undefined> = [];
  const server: Server = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    requests.push(req.headers.authorization);
    if (req.url !== '/openid/v1/jwks') { res.writeHead(404).end(); return; }
    if (req.headers.authorization !== `Bearer ${bearer}`) { res.writeHead(401).end(); return; }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=3600' }).end(JSON.stringify(served));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}/openid/v1/jwks`,
    requests,
    serve(next) { served = jwks(next); },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface ClusterIdentity {
  /** What the collector under test verifies with (--sa-issuer, --sa-jwks-file). */
  serviceAccounts: { issuer: string; jwksFile: string };
  /** A token file for the agent on `node` (made once per node). */
  tokenFile(node: string): Promise<string>;
}

/** One signing key, its JWKS file and token files in `dir`: what the deploy gives agents and collector. */
export async function clusterIdentity(dir: string): Promise<ClusterIdentity> {
  const key = await signingKey('RS256');
  const jwksFile = `${dir}/jwks.json`;
  writeJwksFile(jwksFile, [key]);
  const files = new Map<string, string>();
  return {
    serviceAccounts: { issuer: ISSUER, jwksFile },
    async tokenFile(node) {
      let file = files.get(node);
      if (!file) {
        file = `${dir}/${node}.token`;
        writeFileSync(file, (await projectedToken(key, { node })).token);
        files.set(node, file);
      }
      return file;
    },
  };
}
