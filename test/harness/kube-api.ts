// A STAND-IN for kube-apiserver, not the real thing: no kube-apiserver can run on these machines. It answers
// the list and watch requests @kubernetes/client-node makes (and the collector's reflectors send), from
// objects the tests write, on loopback over plain HTTP:
//  - GET <collection>                          → 200 {kind: <Kind>List, metadata: {resourceVersion, continue?}, items}
//    items without kind/apiVersion, as a real server sends them; `limit` and `continue` page through the list;
//  - GET <collection>?watch=true&resourceVersion=N → 200, one JSON event per line ({type, object}), held open,
//    first the changes after N that it still remembers, then every change as the test makes it; a
//    resourceVersion older than what it remembers gets an ERROR 410 event (Expired) and the end of the stream.
// Every object gets a resourceVersion from one counter (like etcd's revision). Tests can also refuse a
// collection (403, 404, 500), expire watches, send bookmarks, and read every request the server saw.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

interface KindInfo { path: string; apiVersion: string; namespaced: boolean }

const core = (plural: string, namespaced: boolean): KindInfo => ({ path: `/api/v1/${plural}`, apiVersion: 'v1', namespaced });
const group = (g: string, plural: string, namespaced: boolean): KindInfo => ({ path: `/apis/${g}/v1/${plural}`, apiVersion: `${g}/v1`, namespaced });
const RBAC = 'rbac.authorization.k8s.io';
const ADM = 'admissionregistration.k8s.io';

export const KINDS = {
  Namespace: core('namespaces', false),
  Pod: core('pods', true),
  ServiceAccount: core('serviceaccounts', true),
  Role: group(RBAC, 'roles', true),
  ClusterRole: group(RBAC, 'clusterroles', false),
  RoleBinding: group(RBAC, 'rolebindings', true),
  ClusterRoleBinding: group(RBAC, 'clusterrolebindings', false),
  NetworkPolicy: group('networking.k8s.io', 'networkpolicies', true),
  ValidatingAdmissionPolicy: group(ADM, 'validatingadmissionpolicies', false),
  ValidatingAdmissionPolicyBinding: group(ADM, 'validatingadmissionpolicybindings', false),
  ValidatingWebhookConfiguration: group(ADM, 'validatingwebhookconfigurations', false),
  MutatingWebhookConfiguration: group(ADM, 'mutatingwebhookconfigurations', false),
} as const;
export type StandInKind = keyof typeof KINDS;

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Collection {
  kind: StandInKind;
  info: KindInfo;
  objects: Map<string, Obj>;
  /** Events still remembered, oldest first (compaction drops older ones). */
  history: Array<{ rv: number; type: EventType; object: Obj }>;
  /** Watches older than this get 410. */
  compactedAt: number;
  watchers: Set<ServerResponse>;
  /** Answer the next requests with this status instead (list and watch alike), as many times as given. */
  failures: Array<{ status: number; on: 'list' | 'watch' | 'any' }>;
}

interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
}

const keyOf = (o: Obj): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

export class KubeApiStandIn {
  readonly requests: SeenRequest[] = [];
  private rv = 100;
  private uid = 0;
  private readonly collections = new Map<string, Collection>();
  private readonly server: Server;
  port = 0;

  constructor(readonly token = 'stand-in-token') {
    for (const [kind, info] of Object.entries(KINDS)) {
      this.collections.set(info.path, { kind: kind as StandInKind, info, objects: new Map(), history: [], compactedAt: 0, watchers: new Set(), failures: [] });
    }
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  /** The last resourceVersion handed out. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const c of this.collections.values()) for (const w of c.watchers) w.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A client-node config for this server (plain HTTP needs skipTLSVerify, or client-node refuses it). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'stand-in', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'collector', token: this.token }],
      contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'collector' }],
      currentContext: 'stand-in',
    });
    return kc;
  }

  /** The same as a kubeconfig file (for --kubeconfig), with a second context that points nowhere. */
  kubeconfigFile(): string {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-kubeconfig-'));
    const file = join(dir, 'config');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: elsewhere',
      'clusters:',
      `- name: stand-in\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true`,
      '- name: elsewhere\n  cluster:\n    server: http://127.0.0.1:1\n    insecure-skip-tls-verify: true',
      'users:', `- name: collector\n  user:\n    token: ${this.token}`,
      'contexts:',
      '- name: stand-in\n  context:\n    cluster: stand-in\n    user: collector',
      '- name: elsewhere\n  context:\n    cluster: elsewhere\n    user: collector',
      '',
    ].join('\n'), { mode: 0o600 });
    return file;
  }

  private collection(kind: StandInKind): Collection {
    return this.collections.get(KINDS[kind].path)!;
  }

  /** Creates or replaces an object; watchers get ADDED or MODIFIED. Returns it with its resourceVersion. */
  apply(kind: StandInKind, object: Obj): Obj {
    const c = this.collection(kind);
    const stored: Obj = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.rv);
    stored.metadata.uid ??= `uid-${++this.uid}`;
    const type: EventType = c.objects.has(keyOf(stored)) ? 'MODIFIED' : 'ADDED';
    c.objects.set(keyOf(stored), stored);
    this.emit(c, type, stored);
    return stored;
  }

  /** Several objects of several kinds at once. */
  applyAll(objects: Partial<Record<StandInKind, Obj[]>>): void {
    for (const [kind, list] of Object.entries(objects)) for (const o of list ?? []) this.apply(kind as StandInKind, o);
  }

  remove(kind: StandInKind, name: string, namespace?: string): void {
    const c = this.collection(kind);
    const key = namespace ? `${namespace}/${name}` : name;
    const held = c.objects.get(key);
    if (!held) throw new Error(`stand-in: no ${kind} ${key}`);
    c.objects.delete(key);
    const gone: Obj = { ...structuredClone(held), metadata: { ...held.metadata, resourceVersion: String(++this.rv) } };
    this.emit(c, 'DELETED', gone);
  }

  /** Changes an object without telling any watcher (as if the event was lost to a compaction). */
  applySilently(kind: StandInKind, object: Obj): void {
    const c = this.collection(kind);
    const stored: Obj = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.rv);
    c.objects.set(keyOf(stored), stored);
  }

  removeSilently(kind: StandInKind, name: string, namespace?: string): void {
    this.collection(kind).objects.delete(namespace ? `${namespace}/${name}` : name);
    ++this.rv;
  }

  /** Forgets the history (an etcd compaction): open watches get ERROR 410 and end; resuming needs a relist. */
  expire(kind: StandInKind): void {
    const c = this.collection(kind);
    c.history = [];
    c.compactedAt = this.rv;
    for (const w of c.watchers) {
      w.end(`${JSON.stringify({ type: 'ERROR', object: expiredStatus(0, this.rv) })}\n`);
    }
    c.watchers.clear();
  }

  /** A BOOKMARK with the current resourceVersion to every watcher of the kind. */
  bookmark(kind: StandInKind): void {
    const c = this.collection(kind);
    const line = `${JSON.stringify({ type: 'BOOKMARK', object: { kind: c.kind, apiVersion: c.info.apiVersion, metadata: { resourceVersion: String(this.rv) } } })}\n`;
    for (const w of c.watchers) w.write(line);
  }

  /** Ends every open watch of the kind normally (the server's watch timeout). */
  endWatches(kind: StandInKind): void {
    const c = this.collection(kind);
    for (const w of c.watchers) w.end();
    c.watchers.clear();
  }

  /** The next `times` list/watch requests of the kind are answered with `status`. */
  fail(kind: StandInKind, status: number, opts: { times?: number; on?: 'list' | 'watch' | 'any' } = {}): void {
    const c = this.collection(kind);
    for (let i = 0; i < (opts.times ?? 1); i++) c.failures.push({ status, on: opts.on ?? 'any' });
  }

  /** Open watch streams of a kind. */
  watchers(kind: StandInKind): number {
    return this.collection(kind).watchers.size;
  }

  /** Waits until every listed kind (all by default) has an open watch. */
  async watching(kinds: StandInKind[] = Object.keys(KINDS) as StandInKind[], timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (kinds.some((k) => this.watchers(k) === 0)) {
      if (Date.now() > until) throw new Error(`stand-in: no watch on ${kinds.filter((k) => this.watchers(k) === 0).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  requestsFor(kind: StandInKind): SeenRequest[] {
    return this.requests.filter((r) => r.path === KINDS[kind].path);
  }

  private emit(c: Collection, type: EventType, object: Obj): void {
    const full = { kind: c.kind, apiVersion: c.info.apiVersion, ...object };
    c.history.push({ rv: Number(object.metadata.resourceVersion), type, object: full });
    const line = `${JSON.stringify({ type, object: full })}\n`;
    for (const w of c.watchers) w.write(line);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query, authorization: req.headers.authorization });
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      send(401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const c = this.collections.get(url.pathname);
    if (!c || req.method !== 'GET') {
      send(404, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`));
      return;
    }
    const watch = query.watch === 'true' || query.watch === '1';
    const failure = c.failures.findIndex((f) => f.on === 'any' || f.on === (watch ? 'watch' : 'list'));
    if (failure >= 0) {
      const [{ status: code }] = c.failures.splice(failure, 1);
      send(code, status(code, code === 403 ? 'Forbidden' : code === 404 ? 'NotFound' : code === 410 ? 'Expired' : 'InternalError', `stand-in says ${code}`));
      return;
    }
    if (watch) this.watch(c, query, res);
    else this.list(c, query, send);
  }

  private list(c: Collection, query: Record<string, string>, send: (status: number, body: unknown) => void): void {
    const all = [...c.objects.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const start = query.continue ? Number(query.continue) : 0;
    const limit = query.limit ? Number(query.limit) : all.length;
    const items = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : undefined;
    send(200, {
      kind: `${c.kind}List`,
      apiVersion: c.info.apiVersion,
      metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) },
      items,
    });
  }

  private watch(c: Collection, query: Record<string, string>, res: ServerResponse): void {
    const from = Number(query.resourceVersion || '0');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // As the real server does: the client learns at once that the watch is open, before any event.
    res.flushHeaders();
    if (from < c.compactedAt) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: expiredStatus(from, c.compactedAt) })}\n`);
      return;
    }
    for (const e of c.history) if (e.rv > from) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    c.watchers.add(res);
    res.on('close', () => c.watchers.delete(res));
  }
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const expiredStatus = (from: number, now: number) => status(410, 'Expired', `too old resource version: ${from} (${now})`);

export async function startKubeApi(token?: string): Promise<KubeApiStandIn> {
  return new KubeApiStandIn(token).start();
}
