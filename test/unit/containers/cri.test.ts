// The CRI path against an in-process gRPC server on a unix socket: the happy path (a socket-only node,
// no readable state dir) and a runtime that never answers.
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { HostAccess } from '../../../agent/gather/host.js';
import { gatherContainers } from '../../../agent/gather/containers/index.js';
import { findCriProto } from '../../../agent/gather/containers/cri-client.js';
import { gatherFromCri } from '../../../agent/gather/containers/cri.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { containersChecks } from '../../../agent/evaluate/checks/containers/index.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { tempDir } from '../../harness/integration.js';
import { containerId, containerProc, containerdProc, ociSpec, sandboxId } from './fixtures.js';

type Handlers = Record<string, (call: { request: any }, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void>;

let server: grpc.Server | undefined;
let built: BuiltHost | undefined;
afterEach(async () => {
  server?.forceShutdown();
  server = undefined;
  built?.cleanup();
  built = undefined;
});

async function serve(socket: string, handlers: Handlers): Promise<void> {
  const def = protoLoader.loadSync(findCriProto(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  server = new grpc.Server();
  server.addService(pkg.runtime.v1.RuntimeService.service, handlers);
  await new Promise<void>((resolve, reject) =>
    server!.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
}

const SB = sandboxId(9);
const CT = containerId(9);

const handlers: Handlers = {
  ListPodSandbox: (_call, cb) => cb(null, { items: [{ id: SB, metadata: { name: 'web-0', namespace: 'shop', uid: 'u1' }, state: 'SANDBOX_READY' }] }),
  ListContainers: (_call, cb) => cb(null, { containers: [{ id: CT, pod_sandbox_id: SB, metadata: { name: 'nginx' }, image: { image: 'sha256:abc' }, state: 'CONTAINER_RUNNING' }] }),
  PodSandboxStatus: (_call, cb) => cb(null, { info: { info: JSON.stringify({ pid: 3000, config: { port_mappings: [{ container_port: 80, host_port: 8080 }] } }) } }),
  ContainerStatus: (_call, cb) => cb(null, { info: { info: JSON.stringify({
    pid: 3001,
    config: { envs: [{ key: 'STRIPE_SECRET', value: 'sk_live_do_not_leak' }], linux: { security_context: { capabilities: { add_capabilities: ['NET_ADMIN'] } } } },
    runtimeSpec: ociSpec({ id: CT, sandboxId: SB, pod: 'web-0', namespace: 'shop', name: 'nginx', image: 'nginx:1.27', caps: ['CHOWN', 'NET_ADMIN'], env: ['STRIPE_SECRET=sk_live_do_not_leak'] }),
  }) } }),
};

describe('CRI gather', () => {
  it('builds containers from the socket alone, with host ports from the sandbox config', async () => {
    const proc = containerProc({ id: CT, pid: 3001, caps: ['CHOWN', 'NET_ADMIN'] })!;
    built = buildHost({ procs: [containerdProc, proc] });
    const sock = join(built.hostRoot, 'cri.sock');
    await serve(sock, handlers);
    const host = new HostAccess(built);
    const fact = await gatherContainers(host, { ...built, criSocket: '/cri.sock' }, {});
    expect(fact.sources).toEqual([{ runtime: 'cri', path: '/cri.sock' }]);
    expect(fact.errors).toEqual([]);
    const c = fact.items.find((i) => i.type === 'container')!;
    expect(c).toMatchObject({ id: CT, namespace: 'shop', pod: 'web-0', container: 'nginx', image: 'nginx:1.27', pid: 3001 });
    expect(c.declared).toMatchObject({ sources: ['oci', 'cri'], hostPorts: [8080], capabilities: { added: ['NET_ADMIN'] } });
    expect(JSON.stringify(fact)).not.toContain('sk_live');

    const snapshot = { containers: fact } as unknown as Snapshot;
    const failed = evaluate(snapshot, containersChecks).filter((f) => f.status === 'fail').map((f) => f.checkId);
    expect(failed).toEqual(expect.arrayContaining(['container-host-ports', 'container-capabilities-baseline', 'container-secret-env']));
  });

  it('gives up on a runtime that never answers, within the deadline', async () => {
    const dir = tempDir('cri');
    try {
      const sock = join(dir.path, 'hung.sock');
      await serve(sock, { ListPodSandbox: () => { /* never answers */ } });
      const started = Date.now();
      const r = await gatherFromCri(sock, '/run/hung.sock', 300);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(r.containers).toEqual([]);
      expect(r.errors).toEqual([expect.objectContaining({ path: '/run/hung.sock', code: 'ETIMEDOUT' })]);
    } finally {
      dir.cleanup();
    }
  });

  it('stops asking for statuses once the time budget is spent', async () => {
    const dir = tempDir('cri');
    try {
      const sock = join(dir.path, 'slow.sock');
      const ids = Array.from({ length: 40 }, (_, i) => containerId(100 + i));
      await serve(sock, {
        ...handlers,
        ListContainers: (_call, cb) => cb(null, { containers: ids.map((id) => ({ id, pod_sandbox_id: SB, metadata: { name: id.slice(-4) } })) }),
        ContainerStatus: (_call, cb) => { setTimeout(() => cb(null, { info: {} }), 150); },
      });
      const started = Date.now();
      const r = await gatherFromCri(sock, '/run/slow.sock', 1000, 400);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(r.containers).toHaveLength(40);
      expect(r.errors.at(-1)).toMatchObject({ code: 'ETIMEDOUT', message: expect.stringContaining('budget') });
    } finally {
      dir.cleanup();
    }
  });

  it('reports a socket nobody listens on', async () => {
    const dir = tempDir('cri');
    try {
      const r = await gatherFromCri(join(dir.path, 'none.sock'), '/run/none.sock', 500);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0].path).toBe('/run/none.sock');
    } finally {
      dir.cleanup();
    }
  });
});
