// Socket → process attribution across scans: what was learnt is kept, so a rescan with the same sockets reads no
// fd link at all, and a new socket costs the links that are new, not a walk of every fd of every process.
import { mkdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../../agent/gather/host.js';
import { findSocketOwners } from '../../../agent/gather/sockets/owners.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';

let built: BuiltHost | undefined;
afterEach(() => { built?.cleanup(); built = undefined; });

const PIDS = 50;
const FDS_PER_PID = 10;

/** 50 processes with 10 socket fds each: pid p holds inodes 1000·p + fd. */
function busyHost(): { host: HostAccess; link(pid: number, fd: number, target: string): void; kill(pid: number): void } {
  built = buildHost({ procs: Array.from({ length: PIDS }, (_, i) => ({ pid: i + 1, argv: ['app'], comm: `app-${i + 1}` })) });
  const { procRoot } = built;
  const link = (pid: number, fd: number, target: string): void => {
    const dir = join(procRoot, String(pid), 'fd');
    mkdirSync(dir, { recursive: true });
    try { unlinkSync(join(dir, String(fd))); } catch { /* new */ }
    symlinkSync(target, join(dir, String(fd)));
  };
  for (let p = 1; p <= PIDS; p++) for (let fd = 0; fd < FDS_PER_PID; fd++) link(p, fd, `socket:[${1000 * p + fd}]`);
  return { host: new HostAccess(built), link, kill: (pid) => rmSync(join(procRoot, String(pid)), { recursive: true }) };
}

const all = (): Set<number> => new Set(Array.from({ length: PIDS * FDS_PER_PID }, (_, i) => 1000 * (Math.floor(i / FDS_PER_PID) + 1) + (i % FDS_PER_PID)));

describe('findSocketOwners remembers across scans', () => {
  it('a rescan with the same 500 sockets reads no fd link and lists no fd dir', () => {
    const { host } = busyHost();
    const first = findSocketOwners(host, all());
    expect(first.owners.size).toBe(PIDS * FDS_PER_PID);
    expect(first.cost.linksRead).toBe(PIDS * FDS_PER_PID);
    const second = findSocketOwners(host, all());
    expect(second.owners.get(7003)).toMatchObject({ pid: 7, process: 'app-7' });
    expect(second.owners.size).toBe(PIDS * FDS_PER_PID);
    expect(second.cost).toEqual({ fdDirsListed: 0, linksRead: 0, linksRemembered: 0 });
  });

  it('a new socket on a new fd costs one link read (plus one listing per process)', () => {
    const { host, link } = busyHost();
    findSocketOwners(host, all());
    link(33, 99, 'socket:[999999]');
    const r = findSocketOwners(host, new Set([...all(), 999999]));
    expect(r.owners.get(999999)).toMatchObject({ pid: 33 });
    expect(r.cost.linksRead).toBe(1);
    expect(r.cost.fdDirsListed).toBeLessThanOrEqual(PIDS);
  });

  it('an fd number reused for a new socket is found by reading the links again', () => {
    const { host, link } = busyHost();
    findSocketOwners(host, all());
    link(20, 4, 'socket:[888888]'); // fd 4 of pid 20 held 20004, closed; now a new socket
    const sockets = all();
    sockets.delete(20004);
    sockets.add(888888);
    const r = findSocketOwners(host, sockets);
    expect(r.owners.get(888888)).toMatchObject({ pid: 20 });
    expect(r.owners.has(20004)).toBe(false);
  });

  it('forgets the owners of a process that exited; does not walk every fd again for a socket nobody visible holds', () => {
    const { host, kill } = busyHost();
    findSocketOwners(host, all());
    kill(5);
    const r = findSocketOwners(host, all());
    expect(r.owners.has(5001)).toBe(false);
    expect(r.owners.get(6001)).toMatchObject({ pid: 6 });
    const orphan = new Set([...all(), 424242]);
    const once = findSocketOwners(host, orphan);
    expect(once.owners.has(424242)).toBe(false);
    const again = findSocketOwners(host, orphan);
    expect(again.cost).toEqual({ fdDirsListed: 0, linksRead: 0, linksRemembered: 0 });
  });

  it('a socket the bounded walk did not reach is looked for again next time', () => {
    const { host } = busyHost();
    const truncated = findSocketOwners(host, all(), { maxLinks: 100, maxFdsPerPid: 100 });
    expect(truncated.truncated).toBe(true);
    const next = findSocketOwners(host, all());
    expect(next.owners.size).toBe(PIDS * FDS_PER_PID);
  });
});
