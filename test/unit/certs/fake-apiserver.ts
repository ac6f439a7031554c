// A stand-in for kube-apiserver (none runs here): HTTPS on loopback, bearer-token authentication, and the
// Secret/ConfigMap semantics `certs ensure` relies on — 404 on a missing object, 409 AlreadyExists on a second
// create, 409 Conflict on an update with a stale resourceVersion — with an optional RBAC check against a Role's
// rules (what the kube-apiserver's RBAC authorizer would allow: resourceNames do not restrict create).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface RequestRecord {
  verb: 'get' | 'create' | 'update';
  resource: string;
  namespace: string;
  name: string;
  status: number;
}

interface StoredObject {
  metadata: { name: string; namespace: string; resourceVersion: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface FakeApiServer {
  url: string;
  requests: RequestRecord[];
  objects: Map<string, StoredObject>;
  /** Sets an object as if someone else wrote it (bumps resourceVersion). */
  put(resource: 'secrets' | 'configmaps', namespace: string, object: Omit<StoredObject, 'metadata'> & { metadata: { name: string } }): void;
  get(resource: 'secrets' | 'configmaps', namespace: string, name: string): StoredObject | undefined;
  close(): Promise<void>;
}

export async function startFakeApiServer(opts: { cert: string; key: string; token: string; rules?: PolicyRule[]; delayMs?: number }): Promise<FakeApiServer> {
  const objects = new Map<string, StoredObject>();
  const requests: RequestRecord[] = [];
  let version = 100;
  const keyOf = (resource: string, ns: string, name: string): string => `${resource}/${ns}/${name}`;

  const allowed = (verb: string, resource: string, name: string): boolean => {
    if (!opts.rules) return true;
    return opts.rules.some((r) => r.apiGroups.includes('') && r.resources.includes(resource) && r.verbs.includes(verb)
      && (verb === 'create' || !r.resourceNames?.length || r.resourceNames.includes(name)));
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const status = (res: ServerResponse, code: number, reason: string, message: string): void =>
    send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (req.headers.authorization !== `Bearer ${opts.token}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(secrets|configmaps)(?:\/([^/]+))?$/.exec(new URL(req.url ?? '/', 'https://x').pathname);
    if (!m) return status(res, 404, 'NotFound', `the server could not find the requested resource (${req.url})`);
    const [, namespace, resource, rawName] = m;
    const name = rawName ? decodeURIComponent(rawName) : undefined;
    const verb = req.method === 'GET' && name ? 'get' : req.method === 'POST' && !name ? 'create' : req.method === 'PUT' && name ? 'update' : undefined;
    if (!verb) return status(res, 405, 'MethodNotAllowed', `${req.method} ${req.url}`);
    let body: StoredObject | undefined;
    if (verb !== 'get') {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StoredObject;
      } catch {
        return status(res, 400, 'BadRequest', 'body is not JSON');
      }
    }
    const target = name ?? body?.metadata?.name ?? '';
    const record = (code: number): void => { requests.push({ verb, resource, namespace, name: target, status: code }); };
    if (!allowed(verb, resource, target)) {
      record(403);
      return status(res, 403, 'Forbidden', `${resource} "${target}" is forbidden: cannot ${verb} resource "${resource}" in the namespace "${namespace}"`);
    }
    const key = keyOf(resource, namespace, target);
    const existing = objects.get(key);
    if (verb === 'get') {
      record(existing ? 200 : 404);
      return existing ? send(res, 200, existing) : status(res, 404, 'NotFound', `${resource} "${target}" not found`);
    }
    if (verb === 'create') {
      if (existing) {
        record(409);
        return status(res, 409, 'AlreadyExists', `${resource} "${target}" already exists`);
      }
      const stored = { ...body!, metadata: { ...body!.metadata, namespace, resourceVersion: String(++version) } };
      objects.set(key, stored);
      record(201);
      return send(res, 201, stored);
    }
    if (!existing) {
      record(404);
      return status(res, 404, 'NotFound', `${resource} "${target}" not found`);
    }
    if (body!.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      record(409);
      return status(res, 409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${target}": the object has been modified`);
    }
    const stored = { ...body!, metadata: { ...body!.metadata, namespace, resourceVersion: String(++version) } };
    objects.set(key, stored);
    record(200);
    return send(res, 200, stored);
  };

  const server: Server = createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    handle(req, res).catch((err: Error) => status(res, 500, 'InternalError', err.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    objects,
    put(resource, namespace, object) {
      objects.set(keyOf(resource, namespace, object.metadata.name), { ...object, metadata: { ...object.metadata, namespace, resourceVersion: String(++version) } });
    },
    get: (resource, namespace, name) => objects.get(keyOf(resource, namespace, name)),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** An unsigned JWT with these claims: what the kubelet mounts, as far as `certs ensure` reads it (only `iss`). */
export function fakeServiceAccountJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'test' })}.${part(claims)}.${Buffer.from('not-a-signature').toString('base64url')}`;
}
