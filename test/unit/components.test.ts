import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../agent/gather/host.js';
import { discoverProcesses } from '../../agent/gather/components.js';
import { buildHost, type BuiltHost, type ProcSpec } from '../fixtures/build.js';

let built: BuiltHost | undefined;
afterEach(() => built?.cleanup());

function discover(procs: ProcSpec[]) {
  built = buildHost({ procs });
  return discoverProcesses(new HostAccess(built)).components;
}

describe('component discovery', () => {
  it('does not take a rewritten process title for a component', () => {
    const c = discover([
      { pid: 5, argv: ['npm exec vitest run test/integration/etcd'] },
      { pid: 9, argv: ['/usr/bin/etcd', '--data-dir=/var/lib/etcd'] },
    ]);
    expect(c.etcd?.pid).toBe(9);
  });

  it('prefers a real process over a k3s pass-through of the same component', () => {
    const c = discover([
      { pid: 3, argv: ['/usr/local/bin/rke2', 'server', '--kubelet-arg=read-only-port=10255'] },
      { pid: 8, argv: ['kubelet', '--read-only-port=0'] },
    ]);
    expect(c.kubelet).toMatchObject({ source: 'process', pid: 8, flags: { 'read-only-port': ['0'] } });
    expect(c['kube-apiserver']).toMatchObject({ source: 'passthrough', distribution: 'rke2' });
  });

  it('keeps only the ETCD_* variables the checks judge, never the rest of its environment', () => {
    const c = discover([{ pid: 4, argv: ['etcd'], env: { ETCD_CLIENT_CERT_AUTH: 'false', AWS_SECRET_ACCESS_KEY: 'x', ETCD_ROOT_PASSWORD: 'y' } }]);
    expect(c.etcd?.env).toEqual({ ETCD_CLIENT_CERT_AUTH: 'false' });
  });
});

describe('k3s built-in component arguments', () => {
  it('judges a stock k3s server on the arguments k3s itself gives its apiserver and kubelet', async () => {
    const { scanNode } = await import('../../agent/scan.js');
    built = buildHost({ procs: [{ pid: 7, argv: ['/usr/local/bin/k3s', 'server'] }] });
    const { report } = await scanNode({ hostRoot: built.hostRoot, procRoot: built.procRoot });
    const status = (cis: string) => report.findings.filter((f) => f.cis === cis).map((f) => f.status);
    for (const cis of ['1.2.1', '1.2.6', '1.2.7', '1.2.8', '1.2.14', '1.2.15', '1.3.2', '1.3.7', '1.4.1', '1.4.2', '4.2.1', '4.2.2', '4.2.3', '4.2.4']) {
      expect(status(cis), cis).toEqual(['pass']);
    }
  });

  it('lets a user --kube-apiserver-arg replace the built-in value', () => {
    const c = discover([{ pid: 7, argv: ['k3s', 'server', '--kube-apiserver-arg=anonymous-auth=true', '--kube-apiserver-arg=enable-admission-plugins=AlwaysPullImages'] }]);
    expect(c['kube-apiserver']?.flags['anonymous-auth']).toEqual(['true']);
    expect(c['kube-apiserver']?.flags['enable-admission-plugins']).toEqual(['AlwaysPullImages']);
    expect(c['kube-apiserver']?.flags['profiling']).toEqual(['false']);
  });
});
