import { describe, expect, it } from 'vitest';
import { portsChecks } from '../../../agent/evaluate/checks/ports.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { BENCHMARK_CHECKS as etcdChecks } from '../../../agent/evaluate/catalogue.js';
import { FindingSchema, type Finding } from '../../../proto/report.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { component, emptySnapshot, settings, sock } from './snapshot.js';

function run(s: Snapshot): Finding[] {
  const findings = evaluate(s, portsChecks);
  for (const f of findings) FindingSchema.parse(f);
  return findings;
}
const only = (findings: Finding[], checkId: string) => findings.filter((f) => f.checkId === checkId);

const kubelet = component('kubelet', 100, ['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml']);
const etcd = (args: string[], env: Record<string, string> = {}) => component('etcd', 200, ['etcd', ...args], env);

describe('kubelet ports', () => {
  it('fails the read-only port when the kubelet listens on it, pass when closed', () => {
    const open = run(emptySnapshot({
      components: { kubelet },
      kubelet: { configLoaded: true, dropIns: [], errors: [], settings: settings({ readOnlyPort: 10255 }) },
      sockets: [sock(10255, '::', { pid: 100, process: 'kubelet' })],
    }));
    const [f] = only(open, 'port-kubelet-readonly');
    expect(f).toMatchObject({ status: 'fail', severity: 'high', resource: { kind: 'port', protocol: 'tcp6', address: '::', port: 10255, pid: 100, process: 'kubelet' } });

    const closed = run(emptySnapshot({
      components: { kubelet },
      kubelet: { configLoaded: true, dropIns: [], errors: [], settings: settings({ readOnlyPort: 0 }) },
      sockets: [sock(10255, '0.0.0.0', { pid: 555, process: 'other' })],
    }));
    expect(only(closed, 'port-kubelet-readonly')).toEqual([expect.objectContaining({ status: 'pass' })]);
    // The unrelated process on 10255 is in the inventory instead.
    expect(only(closed, 'port-listener')).toEqual([expect.objectContaining({ status: 'warn', severity: 'info', resource: expect.objectContaining({ port: 10255, process: 'other' }) })]);
  });

  it('judges 10250 together with anonymous auth and the authorization mode', () => {
    const base = { components: { kubelet }, sockets: [sock(10250, '0.0.0.0', { pid: 100, process: 'kubelet' }), sock(10250, '::1', { pid: 100, process: 'kubelet' })] };
    const anonymous = run(emptySnapshot({
      ...base,
      kubelet: { configLoaded: false, dropIns: [], errors: [], settings: settings({ 'authentication.anonymous.enabled': true, 'authorization.mode': 'AlwaysAllow' }) },
    }));
    expect(only(anonymous, 'port-kubelet-anonymous').map((f) => [f.resource.kind === 'port' && f.resource.address, f.status, f.severity])).toEqual([
      ['0.0.0.0', 'fail', 'critical'],
      ['::1', 'pass', 'high'],
    ]);
    const webhook = run(emptySnapshot({
      ...base,
      kubelet: { configLoaded: true, dropIns: [], errors: [], settings: settings({ 'authentication.anonymous.enabled': true, 'authorization.mode': 'Webhook' }) },
    }));
    expect(only(webhook, 'port-kubelet-anonymous')[0]).toMatchObject({ status: 'fail', severity: 'high' });
    const off = run(emptySnapshot({
      ...base,
      kubelet: { configLoaded: true, dropIns: [], errors: [], settings: settings({ 'authentication.anonymous.enabled': 'false' }) },
    }));
    expect(only(off, 'port-kubelet-anonymous').every((f) => f.status === 'pass')).toBe(true);
  });
});

describe('etcd ports', () => {
  it('is critical when the client port is exposed without client-cert-auth', () => {
    const findings = run(emptySnapshot({
      components: { etcd: etcd(['--listen-client-urls=http://0.0.0.0:32379', '--listen-peer-urls=http://127.0.0.1:32380']) },
      sockets: [sock(32379, '0.0.0.0', { pid: 200, process: 'etcd' }), sock(32380, '127.0.0.1', { pid: 200, process: 'etcd' })],
    }));
    const [client] = only(findings, 'port-etcd-client-exposed');
    expect(client).toMatchObject({ status: 'fail', severity: 'critical', resource: { port: 32379, address: '0.0.0.0', process: 'etcd' } });
    expect(client.evidence.detail).toMatch(/does not require client certificates|plain HTTP/);
    expect(only(findings, 'port-etcd-peer-exposed')).toEqual([expect.objectContaining({ status: 'pass' })]);
    expect(only(findings, 'port-listener')).toEqual([]);
  });

  it('reads client-cert-auth from the environment and only warns when TLS with client certs guards the port', () => {
    const findings = run(emptySnapshot({
      components: { etcd: etcd([], { ETCD_LISTEN_CLIENT_URLS: 'https://10.0.0.5:2379,https://127.0.0.1:2379', ETCD_CLIENT_CERT_AUTH: 'true' }) },
      sockets: [sock(2379, '10.0.0.5', { pid: 200, process: 'etcd' })],
    }));
    expect(only(findings, 'port-etcd-client-exposed')[0]).toMatchObject({ status: 'warn', severity: 'low' });
  });

  it('flags without a pid still attribute by port when etcd runs, but not a pod socket', () => {
    const cid = 'f'.repeat(64);
    const findings = run(emptySnapshot({
      components: { etcd: etcd([]) },
      sockets: [sock(2379, '0.0.0.0'), sock(2379, '0.0.0.0', { inode: 1, containerId: cid })],
    }));
    expect(only(findings, 'port-etcd-client-exposed')).toHaveLength(1);
    const inv = only(findings, 'port-listener');
    expect(inv).toHaveLength(1);
    expect(inv[0].resource).toMatchObject({ containerId: cid });
  });
});

describe('other control-plane ports', () => {
  it('fails the apiserver insecure port, controller-manager and scheduler beyond loopback', () => {
    const findings = run(emptySnapshot({
      components: {
        'kube-apiserver': component('kube-apiserver', 300, ['kube-apiserver', '--insecure-port=8081']),
        'kube-controller-manager': component('kube-controller-manager', 301, ['kube-controller-manager']),
        'kube-scheduler': component('kube-scheduler', 302, ['kube-scheduler', '--bind-address=127.0.0.1']),
      },
      sockets: [
        sock(8081, '0.0.0.0', { pid: 300, process: 'kube-apiserver' }),
        sock(10257, '::', { pid: 301, process: 'kube-controller' }),
        sock(10259, '127.0.0.1', { pid: 302, process: 'kube-scheduler' }),
      ],
    }));
    expect(only(findings, 'port-apiserver-insecure')[0]).toMatchObject({ status: 'fail', severity: 'critical' });
    expect(only(findings, 'port-controller-manager-exposed')[0]).toMatchObject({ status: 'fail', severity: 'medium' });
    expect(only(findings, 'port-scheduler-exposed')[0]).toMatchObject({ status: 'pass' });
  });

  it('fails Docker on 2375 and kube-proxy metrics on 0.0.0.0', () => {
    const findings = run(emptySnapshot({
      components: { 'kube-proxy': component('kube-proxy', 400, ['kube-proxy', '--metrics-bind-address=0.0.0.0:10249']) },
      sockets: [
        sock(2375, '0.0.0.0', { pid: 500, process: 'dockerd' }),
        sock(10249, '0.0.0.0', { pid: 400, process: 'kube-proxy' }),
        sock(10256, '0.0.0.0', { pid: 400, process: 'kube-proxy' }),
      ],
    }));
    expect(only(findings, 'port-docker-tcp')[0]).toMatchObject({ status: 'fail', severity: 'critical' });
    expect(only(findings, 'port-kube-proxy-metrics')[0]).toMatchObject({ status: 'fail', resource: { port: 10249 } });
    expect(only(findings, 'port-listener').map((f) => f.resource.kind === 'port' && f.resource.port)).toEqual([10256]);
  });

  it('lists every other listener once, with its container, and keeps ids distinct per netns', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    const s = emptySnapshot({
      sockets: [
        sock(22, '0.0.0.0', { pid: 1, process: 'sshd' }),
        sock(53, '127.0.0.53', { protocol: 'udp', pid: 2, process: 'systemd-resolve' }),
        sock(8080, '0.0.0.0', { containerId: a, pid: 10, process: 'nginx' }),
        sock(8080, '0.0.0.0', { containerId: b, inode: 9, pid: 11, process: 'nginx' }),
      ],
    });
    s.containers.items.push({ id: a, runtime: 'containerd', type: 'container', namespace: 'web', pod: 'front', container: 'nginx', errors: [] });
    const inv = only(run(s), 'port-listener');
    expect(inv.map((f) => [f.status, f.resource.kind === 'port' && f.resource.port])).toEqual([
      ['warn', 22], ['pass', 53], ['warn', 8080], ['warn', 8080],
    ]);
    expect(inv[2].resource).toMatchObject({ container: 'web/front/nginx' });
    expect(inv[2].evidence.detail).toContain('web/front/nginx');
    expect(new Set(inv.map((f) => f.id)).size).toBe(4);
  });

  it('keeps a container port\'s id across a container restart (new container id, same pod and container)', () => {
    const listener = (id: string, pid: number) => {
      const s = emptySnapshot({ sockets: [sock(8080, '0.0.0.0', { containerId: id, pid, process: 'nginx' })] });
      s.containers.items.push({ id, runtime: 'containerd', type: 'container', namespace: 'web', pod: 'front', container: 'nginx', errors: [] });
      return only(run(s), 'port-listener');
    };
    const before = listener('a'.repeat(64), 10);
    const after = listener('c'.repeat(64), 12);
    expect(before).toHaveLength(1);
    expect(after.map((f) => f.id)).toEqual(before.map((f) => f.id));
  });

  it('reports SO_REUSEPORT listeners (same address, port and container) once', () => {
    const etcdProc = etcd(['--listen-client-urls=http://0.0.0.0:2379']);
    const findings = run(emptySnapshot({
      components: { etcd: etcdProc },
      sockets: [
        sock(53, '0.0.0.0', { protocol: 'udp', inode: 1, pid: 7, process: 'coredns' }),
        sock(53, '0.0.0.0', { protocol: 'udp', inode: 2, pid: 7, process: 'coredns' }),
        sock(2379, '0.0.0.0', { inode: 3, pid: 200, process: 'etcd' }),
        sock(2379, '0.0.0.0', { inode: 4, pid: 200, process: 'etcd' }),
      ],
    }));
    expect(new Set(findings.map((f) => f.id)).size).toBe(findings.length);
    const [dns] = only(findings, 'port-listener');
    expect(only(findings, 'port-listener')).toHaveLength(1);
    expect(dns.evidence.detail).toContain('2 sockets share');
    expect(only(findings, 'port-etcd-client-exposed')).toEqual([expect.objectContaining({ status: 'fail', severity: 'critical' })]);
  });

  it('reads etcd\'s client-cert-auth exactly as CIS 2.2 does (one parser for both)', () => {
    for (const value of ['true', 'tRuE', 'false']) {
      const s = emptySnapshot({
        components: { etcd: etcd(['--listen-client-urls=https://0.0.0.0:2379'], { ETCD_CLIENT_CERT_AUTH: value }) },
        sockets: [sock(2379, '0.0.0.0', { pid: 200, process: 'etcd' })],
      });
      const cis = evaluate(s, etcdChecks).find((f) => f.checkId === 'cis-2.2')!;
      const [port] = only(run(s), 'port-etcd-client-exposed');
      expect([value, port.status === 'fail' ? 'open' : 'guarded'], value).toEqual([value, cis.status === 'pass' ? 'guarded' : 'open']);
    }
  });

  it('returns nothing for components that are not on the node', () => {
    expect(run(emptySnapshot())).toEqual([]);
  });
});
