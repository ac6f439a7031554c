import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../../agent/gather/host.js';
import { scanSockets } from '../../../agent/gather/sockets/index.js';
import type { ContainerFact, ContainersFact, DeclaredFact } from '../../../agent/facts/containers.js';
import { buildHost, type BuiltHost, type FileSpec } from '../../fixtures/build.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const line = (local: string, st: string, inode: number, remote = '00000000:0000'): string =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
const line6 = (local: string, inode: number): string =>
  line(local, '0A', inode, '00000000000000000000000000000000:0000');

const NO_CONTAINERS: ContainersFact = { sources: [], searched: [], items: [], errors: [] };
const CID_A = 'a'.repeat(64);
const CID_B = 'b'.repeat(64);
const CID_SANDBOX = 'c'.repeat(64);

/** Only the fields the socket scan reads; the rest of a container's facts do not matter here. */
function container(id: string, pid: number, extra: Partial<ContainerFact> = {}): ContainerFact {
  return { id, runtime: 'containerd', type: 'container', pid, errors: [], ...extra };
}
const hostNetwork = { hostNamespaces: ['network'] } as unknown as DeclaredFact;

/** fd symlinks live under the proc root, which buildHost places at <hostRoot>/proc. */
function fds(pid: number, links: Record<number, string>): Record<string, FileSpec> {
  return Object.fromEntries(Object.entries(links).map(([fd, target]) => [`/proc/${pid}/fd/${fd}`, { symlink: target }]));
}

let built: BuiltHost | undefined;
afterEach(() => { built?.cleanup(); built = undefined; });

describe('scanSockets on a fixture host', () => {
  it('maps socket inodes to the processes holding them', () => {
    built = buildHost({
      procFiles: {
        'net/tcp': HEADER + line('00000000:2742', '0A', 5001) + line('0100007F:0929', '0A', 5002) + line('0100007F:0929', '01', 5003, '0100007F:D431'),
        'net/tcp6': HEADER + line6('00000000000000000000000000000000:2742', 5004),
        'net/udp': HEADER + line('00000000:0044', '07', 5005),
      },
      procs: [
        { pid: 100, argv: ['/usr/bin/kubelet'], comm: 'kubelet' },
        { pid: 200, argv: ['/usr/bin/etcd'], comm: 'etcd' },
        { pid: 300, argv: ['dhclient'], comm: 'dhclient' },
      ],
      files: {
        ...fds(100, { 0: '/dev/null', 3: 'socket:[5001]', 4: 'socket:[5004]', 5: 'pipe:[77]' }),
        ...fds(200, { 7: 'socket:[5002]', 8: 'socket:[5003]' }),
        ...fds(300, { 3: 'anon_inode:[eventfd]', 4: 'socket:[5005]' }),
      },
    });
    const host = new HostAccess(built);
    const { sockets, stats } = scanSockets(host, NO_CONTAINERS);
    expect(stats).toEqual({ malformedLines: 0, namespacesRead: 0, ownerScanTruncated: false });
    expect(sockets.map((s) => ({ p: s.protocol, a: s.address, port: s.port, pid: s.pid, proc: s.process }))).toEqual([
      { p: 'udp', a: '0.0.0.0', port: 68, pid: 300, proc: 'dhclient' },
      { p: 'tcp', a: '127.0.0.1', port: 2345, pid: 200, proc: 'etcd' },
      { p: 'tcp', a: '0.0.0.0', port: 10050, pid: 100, proc: 'kubelet' },
      { p: 'tcp6', a: '::', port: 10050, pid: 100, proc: 'kubelet' },
    ]);
  });

  it('stops the fd walk at its bound and says so', () => {
    built = buildHost({
      procFiles: { 'net/tcp': HEADER + line('00000000:0050', '0A', 9001) + line('00000000:0051', '0A', 9002) },
      procs: [{ pid: 10, argv: ['a'], comm: 'a' }, { pid: 20, argv: ['b'], comm: 'b' }],
      files: {
        ...fds(10, { 0: 'socket:[1]', 1: 'socket:[2]', 2: 'socket:[3]', 3: 'socket:[9001]' }),
        ...fds(20, { 0: 'socket:[9002]' }),
      },
    });
    const { sockets, stats } = scanSockets(new HostAccess(built), NO_CONTAINERS, { maxLinks: 4, maxFdsPerPid: 100 });
    expect(stats.ownerScanTruncated).toBe(true);
    expect(sockets.find((s) => s.inode === 9001)?.pid).toBe(10);
    expect(sockets.find((s) => s.inode === 9002)?.pid).toBeUndefined();
  });

  it('bounds the fds read per process', () => {
    built = buildHost({
      procFiles: { 'net/tcp': HEADER + line('00000000:0050', '0A', 9001) },
      procs: [{ pid: 10, argv: ['a'] }, { pid: 20, argv: ['b'], comm: 'b' }],
      files: { ...fds(10, { 0: 'socket:[1]', 1: 'socket:[2]', 2: 'socket:[9001]' }), ...fds(20, { 5: 'socket:[9001]' }) },
    });
    const { sockets } = scanSockets(new HostAccess(built), NO_CONTAINERS, { maxLinks: 100, maxFdsPerPid: 2 });
    expect(sockets[0]).toMatchObject({ inode: 9001, pid: 20, process: 'b' });
  });

  it('counts malformed lines and still returns the good ones', () => {
    built = buildHost({
      procFiles: { 'net/tcp': HEADER + 'nonsense here\n' + line('0100007F:0050', '0A', 1) + '  1: 0100007F\n' },
    });
    const { sockets, stats } = scanSockets(new HostAccess(built), NO_CONTAINERS);
    expect(stats.malformedLines).toBe(2);
    expect(sockets).toHaveLength(1);
  });

  it('reads containers with their own netns once per namespace and attributes sockets to them', () => {
    built = buildHost({
      procFiles: { 'net/tcp': HEADER + line('00000000:0016', '0A', 1) },
      procs: [
        { pid: 500, argv: ['/pause'], comm: 'pause', ns: { net: 'net:[4026532001]' },
          files: { 'net/tcp': HEADER + line('00000000:1F90', '0A', 700) } },
        { pid: 501, argv: ['nginx'], comm: 'nginx', ns: { net: 'net:[4026532001]' },
          files: { 'net/tcp': HEADER + line('00000000:1F90', '0A', 700), cgroup: `0::/kubepods/pod1/cri-containerd-${CID_A}.scope\n` } },
        // Host-network container: its tables are the host's, its socket is attributed through its cgroup.
        { pid: 600, argv: ['sshd-in-container'], comm: 'sshd', files: { cgroup: `12:pids:/kubepods/${CID_B}\n` } },
      ],
      files: { ...fds(501, { 3: 'socket:[700]' }), ...fds(600, { 3: 'socket:[1]' }) },
    });
    const containers: ContainersFact = {
      sources: [], searched: [], errors: [],
      items: [
        container(CID_SANDBOX, 500, { type: 'sandbox' }),
        container(CID_A, 501),
        container(CID_B, 600, { declared: hostNetwork }),
        container('d'.repeat(64), 999), // pid vanished: nothing to read, no crash
      ],
    };
    const { sockets, stats } = scanSockets(new HostAccess(built), containers);
    expect(stats.namespacesRead).toBe(2); // pod netns once, the vanished pid once
    expect(sockets).toEqual([
      { protocol: 'tcp', address: '0.0.0.0', port: 22, inode: 1, uid: 0, pid: 600, process: 'sshd', containerId: CID_B },
      { protocol: 'tcp', address: '0.0.0.0', port: 8080, inode: 700, uid: 0, pid: 501, process: 'nginx', containerId: CID_A },
    ]);
  });

  it('attributes a container-netns socket with no visible owner to the netns container', () => {
    built = buildHost({
      procs: [{ pid: 500, argv: ['app'], ns: { net: 'net:[1]' }, files: { 'net/udp6': HEADER + line('0000000000000000FFFF00000100007F:0035', '07', 42, '00000000000000000000000000000000:0000') } }],
    });
    const { sockets } = scanSockets(new HostAccess(built), { sources: [], searched: [], errors: [], items: [container(CID_A, 500)] });
    expect(sockets).toEqual([{ protocol: 'udp6', address: '127.0.0.1', port: 53, inode: 42, uid: 0, containerId: CID_A }]);
  });
});

describe('scanSockets on this machine', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((done) => { if (server) server.close(() => done()); else done(); }));

  it('finds a real listener and its owner through /proc', async () => {
    server = createServer();
    const port = await new Promise<number>((resolve) => {
      server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port));
    });
    const { sockets } = scanSockets(new HostAccess({ hostRoot: '/', procRoot: '/proc' }), NO_CONTAINERS);
    const mine = sockets.find((s) => s.port === port && s.protocol === 'tcp');
    expect(mine).toMatchObject({ address: '127.0.0.1', pid: process.pid });
  });
});
