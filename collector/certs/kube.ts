// Just enough of the Kubernetes API for `certs ensure`: get, create and update one Secret or ConfigMap in the
// pod's namespace, over HTTPS with the pod's ServiceAccount token and the cluster CA (what client libraries call
// the in-cluster config). The token is read from disk on every request: the kubelet rotates it.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type Kind = 'secrets' | 'configmaps';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  type?: string;
  /** Secrets: base64 values; ConfigMaps: plain text. */
  data?: Record<string, string>;
}

interface InClusterConfig {
  server: URL;
  namespace: string;
  tokenFile: string;
  ca: Buffer;
}

/** Fails with the reason when this process does not run in a pod with a ServiceAccount token. */
export function inClusterConfig(opts: { saDir?: string; server?: string; env?: NodeJS.ProcessEnv } = {}): InClusterConfig {
  const dir = opts.saDir ?? SERVICE_ACCOUNT_DIR;
  const env = opts.env ?? process.env;
  let server = opts.server;
  if (!server) {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    if (!host) throw new Error('not in a pod: KUBERNETES_SERVICE_HOST is not set (use --out DIR outside a cluster)');
    server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (err) {
      throw new Error(`cannot read the ServiceAccount's ${name} in ${dir} (is automountServiceAccountToken off?): ${(err as Error).message}`);
    }
  };
  const url = new URL(server);
  if (url.protocol !== 'https:') throw new Error(`the API server address must be https, got ${url.protocol}`);
  return { server: url, namespace: read('namespace').toString().trim(), tokenFile: join(dir, 'token'), ca: read('ca.crt') };
}

class KubeApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409;

export class KubeClient {
  constructor(private readonly config: InClusterConfig, private readonly timeoutMs = 15_000) {}

  get namespace(): string {
    return this.config.namespace;
  }

  /** The object, or undefined when it does not exist. */
  async get(kind: Kind, name: string): Promise<KubeObject | undefined> {
    if (!name) throw new Error(`no name given for the ${kind} to read`);
    try {
      return await this.call('GET', this.path(kind, name));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Creates it; a KubeApiError with status 409 when another writer created it first. */
  create(kind: Kind, object: KubeObject): Promise<KubeObject> {
    return this.call('POST', this.path(kind), object);
  }

  /** Replaces it; status 409 when it changed since `object.metadata.resourceVersion` was read. */
  update(kind: Kind, object: KubeObject): Promise<KubeObject> {
    if (!object.metadata.resourceVersion) throw new Error('an update needs the resourceVersion that was read');
    return this.call('PUT', this.path(kind, object.metadata.name), object);
  }

  private path(kind: Kind, name?: string): string {
    const base = `/api/v1/namespaces/${encodeURIComponent(this.config.namespace)}/${kind}`;
    return name ? `${base}/${encodeURIComponent(name)}` : base;
  }

  private call(method: 'GET' | 'POST' | 'PUT', path: string, body?: KubeObject): Promise<KubeObject> {
    const token = readFileSync(this.config.tokenFile, 'utf8').trim();
    const payload = body ? Buffer.from(JSON.stringify(body)) : undefined;
    const url = new URL(path, this.config.server);
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method,
        // A fresh connection per request: a handful of requests per run, and no race with a server that closes
        // an idle kept-alive socket just as the next request goes out ("socket hang up").
        agent: false,
        ca: this.config.ca,
        timeout: this.timeoutMs,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300 && parsed && typeof parsed === 'object') {
            resolve(parsed as KubeObject);
            return;
          }
          // A Status object says why (Forbidden names the missing verb); otherwise the start of the body.
          const reason = (parsed as { message?: unknown } | undefined)?.message;
          const what = `${method} ${path}`;
          reject(new KubeApiError(status, `${what}: ${status} ${typeof reason === 'string' ? reason : text.slice(0, 200)}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from the API server in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** The `iss` claim of a JWT, read without verification: for the pod's own token, delivered by the kubelet. */
export function issuerOfToken(jwt: string): string {
  const parts = jwt.trim().split('.');
  if (parts.length !== 3) throw new Error('the ServiceAccount token is not a JWT');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new Error('the ServiceAccount token has an unreadable payload');
  }
  const iss = (claims as { iss?: unknown }).iss;
  if (typeof iss !== 'string' || !iss) throw new Error('the ServiceAccount token has no iss claim');
  return iss;
}
