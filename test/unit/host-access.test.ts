import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../agent/gather/host.js';
import { buildHost, type BuiltHost } from '../fixtures/build.js';

let built: BuiltHost | undefined;
afterEach(() => built?.cleanup());

function host(spec: Parameters<typeof buildHost>[0]): HostAccess {
  built = buildHost(spec);
  return new HostAccess(built);
}

describe('HostAccess', () => {
  it('resolves absolute symlinks under the host root, not on the agent host', () => {
    const h = host({ files: {
      '/etc/kubernetes/real.conf': { content: 'inside', mode: 0o600 },
      '/etc/kubernetes/admin.conf': { symlink: '/etc/kubernetes/real.conf' },
      '/etc/link-to-etc': { symlink: '/etc' },
    } });
    const r = h.readText('/etc/kubernetes/admin.conf');
    expect(r).toEqual({ ok: true, text: 'inside' });
    expect(h.stat('/etc/link-to-etc/kubernetes/admin.conf')).toMatchObject({ exists: true, mode: 0o600, user: 'root', group: 'root' });
    // /etc/hostname exists on the real host but not in the fixture: must not leak through.
    expect(h.stat('/etc/link-to-etc/hostname').exists).toBe(false);
  });

  it('does not escape the host root through ..', () => {
    const h = host({ files: { '/a/b': 'x', '/escape': { symlink: '../../../../../etc/passwd' } } });
    const r = h.readText('/escape');
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.text).toContain('root:x:0:0'); // the fixture's passwd, not the real one's extra users
    if (r.ok) expect(r.text).not.toContain('daemon:');
  });

  it('reports a symlink loop as ELOOP instead of hanging', () => {
    const h = host({ files: { '/etc/loop-a': { symlink: '/etc/loop-b' }, '/etc/loop-b': { symlink: '/etc/loop-a' } } });
    const r = h.readText('/etc/loop-a');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('ELOOP');
    expect(h.stat('/etc/loop-a').error?.code).toBe('ELOOP');
  });

  it('refuses oversized files without reading them', () => {
    const h = host({ files: { '/var/lib/kubelet/config.yaml': { size: 50 * 1024 * 1024 } } });
    const r = h.readText('/var/lib/kubelet/config.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('EFBIG');
  });

  it('does not block on a FIFO where a config should be', () => {
    const h = host({ files: { '/etc/kubernetes/dir/.keep': '' } });
    execFileSync('mkfifo', [join(built!.hostRoot, 'etc/kubernetes/fifo.yaml')]);
    const r = h.readText('/etc/kubernetes/fifo.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('EINVAL');
  });

  it('resolves uid and gid through the host root passwd and group, numbers when unknown', () => {
    const h = host({ files: { '/var/lib/etcd': { dir: true, mode: 0o700, uid: 998, gid: 998 }, '/x': { content: '', uid: 4242, gid: 4243 } } });
    expect(h.stat('/var/lib/etcd')).toMatchObject({ type: 'dir', mode: 0o700, user: 'etcd', group: 'etcd' });
    expect(h.stat('/x')).toMatchObject({ user: '4242', group: '4243' });
  });

  it('walks a tree without following symlinked dirs, bounded', () => {
    const h = host({ files: {
      '/etc/kubernetes/pki/ca.crt': 'c', '/etc/kubernetes/pki/etcd/ca.key': { content: 'k', mode: 0o600 },
      '/etc/kubernetes/pki/loop': { symlink: '/etc/kubernetes/pki' },
    } });
    const paths = h.walk('/etc/kubernetes/pki').map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['/etc/kubernetes/pki', '/etc/kubernetes/pki/ca.crt', '/etc/kubernetes/pki/etcd/ca.key']));
    expect(h.walk('/etc/kubernetes/pki', 2)).toHaveLength(2);
  });

  it('lists pids and reads proc entries, tolerating a vanished pid', () => {
    const h = host({ procs: [{ pid: 42, argv: ['/usr/bin/kubelet'] }, { pid: 7, argv: ['sleep'] }] });
    expect(h.listPids()).toEqual([7, 42]);
    expect(h.readProcText([42, 'cmdline'])).toBe('/usr/bin/kubelet\0');
    expect(h.readProc([99, 'cmdline']).ok).toBe(false);
  });
});
