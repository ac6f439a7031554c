// containerd's event stream (containerd.services.events.v1.Events/Subscribe) on its socket, for the fast path: task
// and container events of the CRI namespace, each reduced to its topic and container id. The stream has no replay:
// when it breaks (containerd restarted) it is opened again with backoff, and the caller re-reads the containers.
// The messages are four fields each, so they are read with the wire codec instead of a loaded .proto.
import * as grpc from '@grpc/grpc-js';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { Backoff, sleep } from '../../common/backoff.js';
import type { ContainerEvent, ContainerEventHandlers, ContainerEventStream } from './sources.js';

const SUBSCRIBE = '/containerd.services.events.v1.Events/Subscribe';
/** The CRI plugin's namespace; task and container events only (AND within one filter, OR between filters). */
const FILTERS = ['namespace==k8s.io,topic~="^/tasks/"', 'namespace==k8s.io,topic~="^/containers/"'];
const CONNECT_TIMEOUT_MS = 2_000;

function encodeSubscribeRequest(filters: readonly string[]): Buffer {
  const w = new BinaryWriter();
  for (const f of filters) w.tag(1, WireType.LengthDelimited).string(f);
  return Buffer.from(w.finish());
}

/** The first string field (1) of an event payload: `container_id` of every Task* event, `id` of Container*. */
function firstString(bytes: Uint8Array): string | undefined {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, type] = r.tag();
    if (field === 1 && type === WireType.LengthDelimited) return r.string();
    r.skip(type);
  }
  return undefined;
}

function decodeAny(bytes: Uint8Array): { typeUrl: string; value?: Uint8Array } {
  const r = new BinaryReader(bytes);
  let typeUrl = '';
  let value: Uint8Array | undefined;
  while (r.pos < r.len) {
    const [field, type] = r.tag();
    if (field === 1 && type === WireType.LengthDelimited) typeUrl = r.string();
    else if (field === 2 && type === WireType.LengthDelimited) value = r.bytes();
    else r.skip(type);
  }
  return { typeUrl, value };
}

/** Envelope { timestamp = 1, namespace = 2, topic = 3, event = 4 (Any) }. */
function decodeEnvelope(buf: Buffer): ContainerEvent {
  const r = new BinaryReader(buf);
  const event: ContainerEvent = { topic: '' };
  while (r.pos < r.len) {
    const [field, type] = r.tag();
    if (field === 2 && type === WireType.LengthDelimited) event.namespace = r.string();
    else if (field === 3 && type === WireType.LengthDelimited) event.topic = r.string();
    else if (field === 4 && type === WireType.LengthDelimited) {
      const any = decodeAny(r.bytes());
      const id = any.value ? firstString(any.value) : undefined;
      if (id) event.containerId = id;
    } else r.skip(type);
  }
  return event;
}

/**
 * Subscribes to containerd's events on `socket` (an agent-side path) until close(). `label`: the socket as the
 * host names it, for messages.
 */
export function subscribeContainerdEvents(socket: string, label: string, handlers: ContainerEventHandlers,
  backoff = new Backoff({ baseMs: 250, maxMs: 10_000 })): ContainerEventStream {
  const abort = new AbortController();
  let client: grpc.Client | undefined;
  let call: grpc.ClientReadableStream<ContainerEvent> | undefined;

  const session = async (): Promise<void> => {
    client = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000,
    });
    try {
      await new Promise<void>((resolve, reject) => client!.waitForReady(Date.now() + CONNECT_TIMEOUT_MS,
        (err) => (err ? reject(new Error(`${label} does not answer (${err.message})`)) : resolve())));
      if (abort.signal.aborted) return;
      await new Promise<void>((resolve, reject) => {
        const c = client!.makeServerStreamRequest(SUBSCRIBE, encodeSubscribeRequest, decodeEnvelope, FILTERS);
        call = c;
        c.on('data', (e: ContainerEvent) => { backoff.reset(); handlers.onEvent(e); });
        c.on('error', (err: grpc.ServiceError) => {
          if (abort.signal.aborted) resolve();
          else reject(new Error(`${label}: event stream ${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
        });
        c.on('end', () => (abort.signal.aborted ? resolve() : reject(new Error(`${label}: event stream ended`))));
        handlers.onSubscribed();
      });
    } finally {
      call = undefined;
      client.close();
      client = undefined;
    }
  };

  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        await session();
      } catch (err) {
        if (abort.signal.aborted) break;
        handlers.onUnavailable((err as Error).message);
      }
      if (!abort.signal.aborted) await sleep(backoff.next(), abort.signal);
    }
  })();

  return {
    socket: label,
    async close() {
      abort.abort();
      call?.cancel();
      await loop;
    },
  };
}
