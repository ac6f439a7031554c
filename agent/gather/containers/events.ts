// containerd's event stream (containerd.services.events.v1.Events/Subscribe on its socket), decoded into typed
// container events, so the daemon can judge a container as soon as its task starts instead of at the next rescan.
// (/work/research/containerd-events.md has the protocol and how containerd behaves.)
//
//   for await (const e of containerdEvents({ socket: host.resolve('/run/containerd/containerd.sock'), signal })) {
//     if (e.kind === 'subscribed' && e.resumed) ...   // events during the gap are lost: re-gather all containers
//     if (e.kind === 'disconnected') ...              // fall back to the state-dir watch and say so in a finding
//     if (e.kind === 'task-start') await regather(snapshot, { containers: [e.containerId] }, opts, host);
//   }
//
// containerd keeps no backlog: when it restarts, the stream fails with UNAVAILABLE, and the iterator waits (with
// backoff) until the socket answers again and subscribes anew. It ends only when `signal` aborts.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { Backoff, sleep } from '../../../common/backoff.js';

interface EventBase {
  /** The containerd namespace (`k8s.io` for Kubernetes pods). */
  namespace: string;
  /** When containerd published it. */
  at: Date;
}

export type ContainerdEvent =
  | (EventBase & { kind: 'task-start'; containerId: string; pid: number })
  /** `execId` is empty (or the container id) for the container's own process, else an exec's id. */
  | (EventBase & { kind: 'task-exit'; containerId: string; execId: string; pid: number; exitStatus: number; exitedAt?: Date })
  | (EventBase & { kind: 'task-delete'; containerId: string; execId: string; pid: number; exitStatus: number; exitedAt?: Date })
  | (EventBase & { kind: 'container-create'; containerId: string; image: string; runtime?: string })
  | (EventBase & { kind: 'container-delete'; containerId: string });

/** The subscription's own state, in the same stream as the events it brings. */
export type SubscriptionEvent =
  /** Subscribed; `resumed` after a disconnection (what happened meanwhile was not seen). */
  | { kind: 'subscribed'; resumed: boolean }
  /** The stream ended or could not start; the next attempt is in `retryInMs`. */
  | { kind: 'disconnected'; reason: string; code?: number; retryInMs: number };

interface ContainerdEventsOptions {
  /** Agent-side path of containerd's socket (HostAccess.resolve of /run/containerd/containerd.sock). */
  socket: string;
  /** Only this containerd namespace (default `k8s.io`, the CRI plugin's). */
  namespace?: string;
  /** Ends the iteration (the stream is cancelled). */
  signal?: AbortSignal;
  backoff?: Backoff;
  /** How long to wait for the socket to answer before counting an attempt as failed. */
  connectTimeoutMs?: number;
}

const TOPICS = ['^/tasks/', '^/containers/'];
/** A stream that lived this long was a working subscription: the next failure starts the backoff afresh. */
const HEALTHY_MS = 10_000;

/**
 * containerd's events of one namespace as an async iterator: task start, exit and delete, container create and
 * delete, and the subscription's own state. Other topics and undecodable payloads are skipped.
 */
export async function* containerdEvents(opts: ContainerdEventsOptions): AsyncGenerator<ContainerdEvent | SubscriptionEvent> {
  const namespace = opts.namespace ?? 'k8s.io';
  const backoff = opts.backoff ?? new Backoff({ baseMs: 250, maxMs: 10_000 });
  // Several filters are ORed; commas AND within one. `/` starts a quote in containerd's filter syntax: quote values.
  const filters = TOPICS.map((t) => `namespace==${namespace},topic~="${t}"`);
  let resumed = false;
  while (!opts.signal?.aborted) {
    const client = new grpc.Client(`unix://${opts.socket}`, grpc.credentials.createInsecure(), {
      'grpc.enable_retries': 0, 'grpc.max_receive_message_length': 4 * 1024 * 1024,
    });
    const started = Date.now();
    let failure: { reason: string; code?: number } | undefined;
    try {
      failure = await connect(client, opts.connectTimeoutMs ?? 5_000, opts.signal);
      if (!failure) {
        yield { kind: 'subscribed', resumed };
        resumed = true;
        failure = yield* stream(client, filters, opts.signal);
      }
    } finally {
      client.close();
    }
    if (opts.signal?.aborted) return;
    if (Date.now() - started > HEALTHY_MS) backoff.reset();
    const retryInMs = backoff.next();
    yield { kind: 'disconnected', reason: failure?.reason ?? 'the stream ended', ...(failure?.code !== undefined ? { code: failure.code } : {}), retryInMs };
    await sleep(retryInMs, opts.signal);
  }
}

/** Waits until the channel is ready (containerd answers on its socket); the failure, or undefined when ready. */
function connect(client: grpc.Client, timeoutMs: number, signal?: AbortSignal): Promise<{ reason: string } | undefined> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve({ reason: 'aborted' }); return; }
    const onAbort = (): void => { client.close(); resolve({ reason: 'aborted' }); };
    signal?.addEventListener('abort', onAbort, { once: true });
    client.waitForReady(Date.now() + timeoutMs, (err) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(err ? { reason: `containerd does not answer: ${err.message}` } : undefined);
    });
  });
}

/** One subscription: its events until it fails (the failure is returned) or `signal` aborts. */
async function* stream(client: grpc.Client, filters: string[], signal?: AbortSignal): AsyncGenerator<ContainerdEvent, { reason: string; code?: number }> {
  const { SubscribeRequest, Envelope } = schema();
  const call = client.makeServerStreamRequest(
    '/containerd.services.events.v1.Events/Subscribe',
    (req: { filters: string[] }) => Buffer.from(SubscribeRequest.encode(SubscribeRequest.create(req)).finish()),
    (bytes: Buffer) => Envelope.decode(bytes),
    { filters },
  );
  const onAbort = (): void => call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  // Envelopes are queued between pulls: containerd does not wait for a slow reader.
  const queue: protobuf.Message[] = [];
  let ended: { reason: string; code?: number } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => { wake?.(); wake = undefined; };
  call.on('data', (m: protobuf.Message) => { queue.push(m); notify(); });
  call.on('error', (err: grpc.ServiceError) => { ended ??= { reason: err.details || err.message, code: err.code }; notify(); });
  call.on('end', () => { ended ??= { reason: 'containerd closed the stream' }; notify(); });
  try {
    for (;;) {
      while (queue.length > 0) {
        const event = decodeEnvelope(queue.shift()!);
        if (event) yield event;
      }
      if (ended) return ended;
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    call.cancel();
  }
}

interface Schema {
  SubscribeRequest: protobuf.Type;
  Envelope: protobuf.Type;
  payloads: Map<string, protobuf.Type>;
}

let loaded: Schema | undefined;

/** The vendored protos (proto/containerd/), found above this module whether it runs from agent/ or dist/agent/. */
function schema(): Schema {
  if (loaded) return loaded;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'proto', 'containerd'))) {
    if (dirname(dir) === dir) throw new Error('proto/containerd not found above the agent');
    dir = dirname(dir);
  }
  const base = join(dir, 'proto', 'containerd');
  const root = new protobuf.Root().loadSync(
    ['services/events/v1/events.proto', 'events/task.proto', 'events/container.proto'].map((f) => join(base, f)),
    { keepCase: true },
  );
  const payloads = new Map<string, protobuf.Type>();
  for (const name of ['TaskStart', 'TaskExit', 'TaskDelete', 'ContainerCreate', 'ContainerDelete']) {
    payloads.set(`containerd.events.${name}`, root.lookupType(`containerd.events.${name}`));
  }
  loaded = {
    SubscribeRequest: root.lookupType('containerd.services.events.v1.SubscribeRequest'),
    Envelope: root.lookupType('containerd.services.events.v1.Envelope'),
    payloads,
  };
  return loaded;
}

interface Timestamp { seconds?: string; nanos?: number }

const asDate = (t: Timestamp | undefined): Date | undefined => {
  if (!t || (!t.seconds && !t.nanos)) return undefined;
  return new Date(Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
};

/** A typed event, or undefined for a topic or payload this module does not know (or cannot decode). */
export function decodeEnvelope(message: protobuf.Message): ContainerdEvent | undefined {
  const { Envelope, payloads } = schema();
  const env = Envelope.toObject(message, { longs: String, defaults: true }) as {
    timestamp?: Timestamp; namespace: string; topic: string; event?: { type_url?: string; value?: Uint8Array };
  };
  // The type URL is the bare proto name in containerd 1.x (`containerd.events.TaskStart`), prefixed elsewhere.
  const typeName = (env.event?.type_url ?? '').replace(/^.*\//, '');
  const type = payloads.get(typeName);
  if (!type || !env.event?.value) return undefined;
  let p: Record<string, unknown>;
  try {
    p = type.toObject(type.decode(env.event.value), { longs: String, defaults: true });
  } catch {
    return undefined;
  }
  const base: EventBase = { namespace: env.namespace, at: asDate(env.timestamp) ?? new Date() };
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const exitedAt = asDate(p.exited_at as Timestamp | undefined);
  switch (typeName) {
    case 'containerd.events.TaskStart':
      return { ...base, kind: 'task-start', containerId: text(p.container_id), pid: num(p.pid) };
    case 'containerd.events.TaskExit':
      return { ...base, kind: 'task-exit', containerId: text(p.container_id), execId: text(p.id), pid: num(p.pid), exitStatus: num(p.exit_status), ...(exitedAt ? { exitedAt } : {}) };
    case 'containerd.events.TaskDelete':
      return { ...base, kind: 'task-delete', containerId: text(p.container_id), execId: text(p.id), pid: num(p.pid), exitStatus: num(p.exit_status), ...(exitedAt ? { exitedAt } : {}) };
    case 'containerd.events.ContainerCreate': {
      const runtime = text((p.runtime as { name?: unknown } | undefined)?.name);
      return { ...base, kind: 'container-create', containerId: text(p.id), image: text(p.image), ...(runtime ? { runtime } : {}) };
    }
    case 'containerd.events.ContainerDelete':
      return { ...base, kind: 'container-delete', containerId: text(p.id) };
    default:
      return undefined;
  }
}
