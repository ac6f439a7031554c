// The fast path's probe (the pid list and the listener set, the socket counters first) and targeted re-gathers
// merged into a snapshot.
import { appendFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../../agent/gather/host.js';
import { gatherSnapshot } from '../../../agent/gather/index.js';
import { HostProbe, regather } from '../../../agent/gather/probe.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { hardenedWorkerFiles, hardenedWorkerProcs, WORKER_PIDS } from '../../fixtures/hosts/hardened-worker.js';
import { containerdHost, containerId, containerProc, ociSpec, sandboxId, STATE, type FakeContainer } from '../containers/fixtures.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (local: string, st: string, inode: number, remote = '00000000:0000'): string =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

let built: BuiltHost | undefined;
let server: Server | undefined;
afterEach(async () => {
  built?.cleanup();
  built = undefined;
  if (server) await new Promise<void>((done) => server!.close(() => done()));
  server = undefined;
});

function writeProc(pid: number, argv: string[]): void {
  const dir = join(built!.procRoot, String(pid));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cmdline'), argv.map((a) => `${a}\0`).join(''));
}

describe('probe', () => {
  it('changes with the pid list and the listeners, not with established connections', async () => {
    built = buildHost({ procs: [{ pid: 10, argv: ['init'] }], procFiles: { 'net/tcp': HEADER + tcpLine('00000000:1F90', '0A', 7001) } });
    const snapshot = await gatherSnapshot(built);
    const p = new HostProbe(new HostAccess(built));
    expect(p.componentsMayHaveChanged(snapshot)).toBe(false); // the baseline
    const first = p.listeners();
    appendFileSync(join(built.procRoot, 'net/tcp'), tcpLine('0100007F:9C40', '01', 7002, '0100007F:1F90'));
    expect(p.listeners()).toBe(first);
    appendFileSync(join(built.procRoot, 'net/tcp'), tcpLine('00000000:2382', '0A', 7003));
    const second = p.listeners();
    expect(second).not.toBe(first);
    // A new process that is no component changes nothing a re-gather of components would find.
    writeProc(11, ['sleep', '1']);
    expect(p.componentsMayHaveChanged(snapshot)).toBe(false);
    expect(p.listeners()).toBe(second);
  });

  it('a new component process, a component\'s process gone, and a pid that execs a component after it was first seen', async () => {
    built = buildHost({ files: hardenedWorkerFiles(), procs: hardenedWorkerProcs() });
    const snapshot = await gatherSnapshot(built);
    const p = new HostProbe(new HostAccess(built));
    p.componentsMayHaveChanged(snapshot);
    writeProc(5000, ['/usr/local/bin/kube-apiserver', '--profiling=false']);
    expect(p.componentsMayHaveChanged(snapshot)).toBe(true);
    expect(p.componentsMayHaveChanged(snapshot)).toBe(false);
    rmSync(join(built.procRoot, String(WORKER_PIDS.kubelet)), { recursive: true });
    expect(p.componentsMayHaveChanged(snapshot)).toBe(true);
    // Seen between fork and exec (its parent's command line), then the component under the same pid.
    writeProc(5001, ['/bin/sh', '-c', 'exec kubelet']);
    expect(p.componentsMayHaveChanged(snapshot)).toBe(false);
    writeProc(5001, ['kubelet', '--config=/var/lib/kubelet/config.yaml']);
    expect(p.componentsMayHaveChanged(snapshot)).toBe(true);
    writeProc(5002, ['k3s', 'server']);
    expect(p.componentsMayHaveChanged(snapshot)).toBe(true);
  });

  it('reads the socket tables only when the kernel\'s socket counters moved, and at least every 10 s', async () => {
    const sockstat = (inuse: number): string => `sockets: used 51\nTCP: inuse ${inuse} orphan 0 tw 197 alloc 5 mem 232\nUDP: inuse 0 mem 0\n`;
    built = buildHost({ procs: [{ pid: 10, argv: ['init'] }], procFiles: {
      'net/tcp': HEADER + tcpLine('00000000:1F90', '0A', 7001), 'net/sockstat': sockstat(1), 'net/sockstat6': 'TCP6: inuse 0\nUDP6: inuse 0\n',
    } });
    let clock = 1_000_000;
    const p = new HostProbe(new HostAccess(built), () => clock);
    const first = p.listeners();
    appendFileSync(join(built.procRoot, 'net/tcp'), tcpLine('00000000:2382', '0A', 7003));
    // The counters did not move (as when one socket closed as another opened): the tables are not read yet.
    writeFileSync(join(built.procRoot, 'net/sockstat'), sockstat(1).replace('mem 232', 'mem 300').replace('used 51', 'used 60'));
    expect(p.listeners()).toBe(first);
    clock += 10_001;
    const second = p.listeners();
    expect(second).not.toBe(first);
    appendFileSync(join(built.procRoot, 'net/tcp'), tcpLine('00000000:2383', '0A', 7004));
    writeFileSync(join(built.procRoot, 'net/sockstat'), sockstat(3));
    expect(p.listeners()).not.toBe(second);
  });

  it('reads the tables when any counter but mem moved, and within a second when none did', async () => {
    const sockstat = (tw: number): string => `sockets: used 51\nTCP: inuse 2 orphan 0 tw ${tw} alloc 5 mem 232\nUDP: inuse 0 mem 0\n`;
    built = buildHost({ procs: [{ pid: 10, argv: ['init'] }], procFiles: {
      'net/tcp': HEADER + tcpLine('00000000:1F90', '0A', 7001), 'net/sockstat': sockstat(197), 'net/sockstat6': 'TCP6: inuse 0\nUDP6: inuse 0\n',
    } });
    let clock = 1_000_000;
    const p = new HostProbe(new HostAccess(built), () => clock);
    const first = p.listeners();
    // A listener came as a connection went (inuse as it was), the closing side left in TIME_WAIT: tw moved.
    appendFileSync(join(built.procRoot, 'net/tcp'), tcpLine('00000000:2382', '0A', 7003));
    writeFileSync(join(built.procRoot, 'net/sockstat'), sockstat(198));
    const second = p.listeners();
    expect(second).not.toBe(first);
    // The same with no counter moved at all: seen once a second has passed since the tables were last read.
    appendFileSync(join(built.procRoot, 'net/tcp'), tcpLine('00000000:2383', '0A', 7004));
    clock += 500;
    expect(p.listeners()).toBe(second);
    clock += 501;
    expect(p.listeners()).not.toBe(second);
  });

  it('sees a real listener opened on this machine', async () => {
    const p = new HostProbe(new HostAccess({ hostRoot: '/', procRoot: '/proc' }));
    const before = p.listeners();
    server = createServer();
    await new Promise<void>((done) => server!.listen(0, '0.0.0.0', () => done()));
    expect(p.listeners()).not.toBe(before);
  });
});

describe('regather', () => {
  it('processes: nothing changed gives the same snapshot; a kubelet restarted with new flags is re-read', async () => {
    built = buildHost({ files: hardenedWorkerFiles(), procs: hardenedWorkerProcs() });
    const opts = { hostRoot: built.hostRoot, procRoot: built.procRoot };
    const snapshot = await gatherSnapshot(opts);
    expect(snapshot.kubelet?.settings.readOnlyPort).toMatchObject({ value: 0, source: 'config-file' });
    const same = await regather(snapshot, { processes: true }, opts);
    expect(same.snapshot).toBe(snapshot);
    expect(same.changed.components).toEqual([]);

    const kubelet = hardenedWorkerProcs().find((p) => p.pid === WORKER_PIDS.kubelet)!;
    rmSync(join(built.procRoot, String(WORKER_PIDS.kubelet)), { recursive: true });
    writeProc(4242, [...(kubelet.argv as string[]), '--read-only-port=10255']);
    const r = await regather(snapshot, { processes: true }, opts);
    expect(r.changed.components).toEqual(['kubelet']);
    expect(r.snapshot.components.kubelet?.pid).toBe(4242);
    expect(r.snapshot.kubelet?.settings.readOnlyPort).toMatchObject({ value: 10255, source: 'flag' });
    expect(r.snapshot.containers).toBe(snapshot.containers); // untouched parts are shared
  });

  it('processes: a new control-plane process is found', async () => {
    built = buildHost({ files: hardenedWorkerFiles(), procs: hardenedWorkerProcs() });
    const opts = { hostRoot: built.hostRoot, procRoot: built.procRoot };
    const snapshot = await gatherSnapshot(opts);
    writeProc(5000, ['kube-apiserver', '--profiling=false']);
    const r = await regather(snapshot, { processes: true }, opts);
    expect(r.changed.components).toEqual(['kube-apiserver']);
    expect(r.snapshot.components['kube-apiserver']?.settings.profiling).toMatchObject({ value: 'false', source: 'flag' });
  });

  it('containers: one container by id (with its sandbox) is re-read; a removed one is dropped; others are kept', async () => {
    const pod = (n: number, privileged = false): FakeContainer[] => [
      { id: sandboxId(n), type: 'sandbox', pod: `p${n}`, namespace: 'ns', pid: 1000 + n * 10 },
      { id: containerId(n), sandboxId: sandboxId(n), pod: `p${n}`, namespace: 'ns', name: 'app', pid: 1001 + n * 10, privileged },
    ];
    built = buildHost(containerdHost([...pod(1), ...pod(2)]));
    const opts = { hostRoot: built.hostRoot, procRoot: built.procRoot };
    const host = new HostAccess(opts);
    const snapshot = await gatherSnapshot(opts);
    expect(snapshot.containers.items).toHaveLength(4);

    // Pod 3 starts (privileged); pod 2's app container is deleted.
    const [sb3, app3] = pod(3, true);
    for (const c of [sb3, app3]) {
      const dir = join(built.hostRoot, STATE, 'io.containerd.runtime.v2.task/k8s.io', c.id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(ociSpec(c)));
      writeFileSync(join(dir, 'init.pid'), String(c.pid));
      const p = containerProc(c)!;
      const pdir = join(built.procRoot, String(p.pid));
      mkdirSync(join(pdir, 'ns'), { recursive: true });
      writeFileSync(join(pdir, 'status'), p.status!);
      writeFileSync(join(pdir, 'cgroup'), p.files!.cgroup);
    }
    rmSync(join(built.hostRoot, STATE, 'io.containerd.runtime.v2.task/k8s.io', containerId(2)), { recursive: true });

    const r = await regather(snapshot, { containers: [containerId(3), containerId(2)] }, opts, host);
    expect(r.changed.containers).toEqual([containerId(2), containerId(3), sandboxId(3)].sort());
    const ids = r.snapshot.containers.items.map((c) => c.id);
    expect(ids).toEqual([sandboxId(1), containerId(1), sandboxId(2), sandboxId(3), containerId(3)].sort());
    expect(r.snapshot.containers.items.find((c) => c.id === containerId(3))).toMatchObject({ pod: 'p3', declared: { privileged: true } });
    // Unchanged containers are the very same facts.
    expect(r.snapshot.containers.items.find((c) => c.id === containerId(1))).toBe(snapshot.containers.items.find((c) => c.id === containerId(1)));

    // All of them (after a resubscription, or a change in the state dir): the same answer, read whole.
    const all = await regather(snapshot, { containers: 'all' }, opts, host);
    expect(all.changed.containers).toEqual(r.changed.containers);
    expect(all.snapshot.containers.items.map((c) => c.id)).toEqual(ids);
    expect(all.changed.sockets).toBe(false);
    const again = await regather(all.snapshot, { containers: 'all' }, opts, host);
    expect(again.snapshot).toBe(all.snapshot); // nothing changed: the same snapshot
    expect(again.changed.containers).toEqual([]);
    host.close();
  });

  it('sockets: a new listener is added with its owner', async () => {
    built = buildHost({ procs: [{ pid: 10, argv: ['app'], comm: 'app' }], procFiles: { 'net/tcp': HEADER + tcpLine('00000000:1F90', '0A', 7001) } });
    const opts = { hostRoot: built.hostRoot, procRoot: built.procRoot };
    const snapshot = await gatherSnapshot(opts);
    expect(snapshot.sockets.map((s) => s.port)).toEqual([8080]);
    appendFileSync(join(built.procRoot, 'net/tcp'), tcpLine('00000000:2382', '0A', 7003));
    mkdirSync(join(built.procRoot, '10/fd'), { recursive: true });
    symlinkSync('socket:[7003]', join(built.procRoot, '10/fd/5'));
    const r = await regather(snapshot, { sockets: true }, opts);
    expect(r.changed.sockets).toBe(true);
    expect(r.snapshot.sockets.find((s) => s.port === 9090)).toMatchObject({ pid: 10, process: 'app' });
  });
});
