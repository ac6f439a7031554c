// Envelopes from containerd's event stream decoded into typed events (the live stream is tested against a real
// containerd in test/integration/containers/events.test.ts).
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../../agent/gather/containers/events.js';

const PROTO = join(import.meta.dirname, '..', '..', '..', 'proto', 'containerd');
const root = new protobuf.Root().loadSync(['services/events/v1/events.proto', 'events/task.proto', 'events/container.proto'].map((f) => join(PROTO, f)), { keepCase: true });
const Envelope = root.lookupType('containerd.services.events.v1.Envelope');

function envelope(topic: string, typeUrl: string, payload: Record<string, unknown>, payloadType = typeUrl.replace(/^.*\//, '')): protobuf.Message {
  const T = root.lookupType(payloadType);
  const bytes = Envelope.encode(Envelope.create({
    timestamp: { seconds: 1_796_028_233, nanos: 935_476_377 }, namespace: 'k8s.io', topic,
    event: { type_url: typeUrl, value: T.encode(T.create(payload)).finish() },
  })).finish();
  return Envelope.decode(bytes);
}

describe('decodeEnvelope', () => {
  it('task start, exit and delete, container create and delete', () => {
    expect(decodeEnvelope(envelope('/tasks/start', 'containerd.events.TaskStart', { container_id: 'abc', pid: 42 })))
      .toEqual({ kind: 'task-start', namespace: 'k8s.io', containerId: 'abc', pid: 42, at: new Date(1_796_028_233_935) });
    expect(decodeEnvelope(envelope('/tasks/exit', 'containerd.events.TaskExit', { container_id: 'abc', id: 'abc', pid: 42, exit_status: 137, exited_at: { seconds: 1_796_028_300 } })))
      .toMatchObject({ kind: 'task-exit', containerId: 'abc', execId: 'abc', exitStatus: 137, exitedAt: new Date(1_796_028_300_000) });
    expect(decodeEnvelope(envelope('/tasks/delete', 'containerd.events.TaskDelete', { container_id: 'abc', pid: 42 })))
      .toMatchObject({ kind: 'task-delete', containerId: 'abc', execId: '', exitStatus: 0 });
    expect(decodeEnvelope(envelope('/containers/create', 'containerd.events.ContainerCreate', { id: 'abc', image: 'busybox', runtime: { name: 'io.containerd.runc.v2' } })))
      .toMatchObject({ kind: 'container-create', containerId: 'abc', image: 'busybox', runtime: 'io.containerd.runc.v2' });
    expect(decodeEnvelope(envelope('/containers/delete', 'containerd.events.ContainerDelete', { id: 'abc' })))
      .toMatchObject({ kind: 'container-delete', containerId: 'abc' });
  });

  it('accepts type.googleapis.com/ prefixes; skips unknown payloads and undecodable bytes', () => {
    expect(decodeEnvelope(envelope('/tasks/start', 'type.googleapis.com/containerd.events.TaskStart', { container_id: 'x', pid: 1 })))
      .toMatchObject({ kind: 'task-start', containerId: 'x' });
    expect(decodeEnvelope(envelope('/tasks/oom', 'containerd.events.TaskOOM', { container_id: 'x' }, 'containerd.events.ContainerDelete'))).toBeUndefined();
    const garbage = Envelope.decode(Envelope.encode(Envelope.create({ topic: '/tasks/start', event: { type_url: 'containerd.events.TaskStart', value: Buffer.from([0x0a, 0xff]) } })).finish());
    expect(decodeEnvelope(garbage)).toBeUndefined();
  });
});
