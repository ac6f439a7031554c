// Container checks on fixture nodes: one finding per container per control, the skip when no runtime
// runs, sensitive mounts named one by one, and the spec-vs-kernel drift finding.
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { HostAccess } from '../../../agent/gather/host.js';
import { gatherContainers } from '../../../agent/gather/containers/index.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { containersChecks } from '../../../agent/evaluate/checks/containers/index.js';
import { sensitiveHostPath } from '../../../agent/evaluate/checks/containers/volumes.js';
import { looksSecret } from '../../../agent/evaluate/checks/containers/env-secrets.js';
import { FindingSchema } from '../../../proto/report.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { containerdHost, containerId, sandboxId, type FakeContainer } from './fixtures.js';

let built: BuiltHost | undefined;
afterEach(() => { built?.cleanup(); built = undefined; });

async function scan(containers: FakeContainer[]): Promise<{ findings: Finding[]; snapshot: Snapshot }> {
  built = buildHost(containerdHost(containers));
  const fact = await gatherContainers(new HostAccess(built), built, {});
  const snapshot = { containers: fact } as unknown as Snapshot;
  return { findings: evaluate(snapshot, containersChecks), snapshot };
}

const of = (findings: Finding[], checkId: string, container?: string): Finding[] =>
  findings.filter((f) => f.checkId === checkId && (!container || (f.resource as { container?: string }).container === container));

const restricted: FakeContainer = {
  id: containerId(1), sandboxId: sandboxId(1), pod: 'good', namespace: 'ns', name: 'ok', pid: 2001,
  caps: [], noNewPrivileges: true, seccomp: true, uid: 1000, readonlyRoot: true,
};

describe('container checks', () => {
  it('skip once, on the node, when no runtime is found', () => {
    const snapshot = { containers: { sources: [], searched: ['/run/containerd', '/var/run/crio/crio.sock'], items: [], errors: [] } } as unknown as Snapshot;
    const findings = evaluate(snapshot, containersChecks);
    const byCheck = new Map<string, Finding[]>();
    for (const f of findings) byCheck.set(f.checkId, [...byCheck.get(f.checkId) ?? [], f]);
    for (const check of containersChecks.filter((c) => c.id !== 'container-gather-error')) {
      const fs = byCheck.get(check.id)!;
      expect(fs, check.id).toHaveLength(1);
      expect(fs[0]).toMatchObject({ status: 'skip', resource: { kind: 'node' } });
      expect(fs[0].evidence.detail).toContain('/run/containerd');
    }
  });

  it('pass a restricted container on every PSS control, one finding per control', async () => {
    const { findings } = await scan([restricted]);
    for (const f of findings) expect(FindingSchema.safeParse(f).success).toBe(true);
    const levelled = findings.filter((f) => f.level);
    expect(new Set(levelled.map((f) => f.checkId)).size).toBe(levelled.length);
    expect(levelled.filter((f) => f.status !== 'pass').map((f) => `${f.checkId}:${f.status}`)).toEqual(['container-host-ports:skip']);
    expect(findings.filter((f) => f.status === 'fail')).toEqual([]);
    expect(new Set(levelled.map((f) => f.pss))).toEqual(new Set([
      'privileged', 'hostNamespaces', 'capabilities_baseline', 'capabilities_restricted', 'hostPathVolumes', 'hostPorts',
      'appArmorProfile', 'seLinuxOptions', 'procMount', 'seccompProfile_baseline', 'seccompProfile_restricted', 'sysctls',
      'allowPrivilegeEscalation', 'runAsNonRoot', 'runAsUser', 'restrictedVolumes',
    ]));
  });

  it('name each sensitive host mount, rw critical, and leave runtime and kubelet dirs alone', async () => {
    const { findings } = await scan([{
      id: containerId(2), name: 'agent', pid: 2002, mounts: [
        { source: '/', destination: '/host', ro: true },
        { source: '/var/lib/kubelet', destination: '/kubelet' },
        { source: '/var/run/docker.sock', destination: '/var/run/docker.sock', ro: true },
        { source: '/data/cache', destination: '/cache' },
      ],
    }]);
    const sensitive = of(findings, 'container-sensitive-host-mount').filter((f) => f.status === 'fail');
    expect(sensitive.map((f) => [(f.evidence.value as { source: string }).source, f.severity]).sort()).toEqual([
      ['/', 'high'], ['/var/lib/kubelet', 'critical'], ['/var/run/docker.sock', 'critical'],
    ]);
    expect(new Set(sensitive.map((f) => f.id)).size).toBe(3);
    expect(of(findings, 'container-host-path')[0].evidence.value).toEqual(['/', '/data/cache', '/var/lib/kubelet', '/var/run/docker.sock']);
  });

  it('report a host path mounted twice once, by its most permissive mount (one id per check and path)', async () => {
    const { findings } = await scan([{
      id: containerId(3), name: 'builder', pid: 2003, mounts: [
        { source: '/var/run/docker.sock', destination: '/var/run/docker.sock', ro: true },
        { source: '/var/run/docker.sock', destination: '/run/docker.sock' },
        { source: '/etc', destination: '/host/etc', ro: true },
        { source: '/etc', destination: '/etc/host', ro: true },
      ],
    }]);
    const sensitive = of(findings, 'container-sensitive-host-mount');
    expect(new Set(sensitive.map((f) => f.id)).size).toBe(sensitive.length);
    expect(sensitive.map((f) => [(f.evidence.value as { source: string }).source, f.severity, (f.evidence.value as { readOnly: boolean }).readOnly]).sort()).toEqual([
      ['/etc', 'high', true], ['/var/run/docker.sock', 'critical', false],
    ]);
    const socket = sensitive.find((f) => (f.evidence.value as { source: string }).source === '/var/run/docker.sock')!;
    expect(socket.evidence.value).toMatchObject({ destination: '/run/docker.sock', destinations: ['/var/run/docker.sock', '/run/docker.sock'] });
    expect(socket.title).toContain('read-write');
  });

  it('report a kernel that holds more than the spec as its own high finding', async () => {
    const { findings } = await scan([{
      id: containerId(3), name: 'tampered', pid: 2003, noNewPrivileges: true, seccomp: true, uid: 1000,
      kernel: { capEff: ['CHOWN', 'SYS_ADMIN'], nnp: false, seccomp: 0, uid: 0, sharedWithHost: ['net', 'uts', 'mnt'] },
    }]);
    const [drift] = of(findings, 'container-kernel-drift');
    expect(drift).toMatchObject({ status: 'fail', severity: 'high' });
    expect(drift.title).toContain('SYS_ADMIN');
    for (const part of ['SYS_ADMIN', 'NoNewPrivs', 'Seccomp is 0', 'uid 0', "host's net", "host's mnt"]) {
      expect(drift.evidence.detail).toContain(part);
    }
    // The spec alone passes these; the running process does not.
    expect(of(findings, 'container-root-uid')[0].status).toBe('fail');
  });

  it('skip kernel drift for a vanished pid and report the read error', async () => {
    const { findings } = await scan([{ id: containerId(4), name: 'gone', pid: 99999, vanished: true }]);
    expect(of(findings, 'container-kernel-drift')[0]).toMatchObject({ status: 'skip' });
    expect(of(findings, 'container-gather-error')[0]).toMatchObject({ status: 'error', resource: { kind: 'container', container: 'gone' } });
  });

  it('turn an unreadable (oversized) spec into one error finding, not a crash', async () => {
    const { findings } = await scan([{ id: containerId(5), pid: 2005, rawSpec: { size: 10 * 1024 * 1024 } }]);
    const errors = of(findings, 'container-gather-error');
    expect(errors).toHaveLength(1);
    expect(errors[0].evidence.detail).toContain('EFBIG');
    expect(findings.filter((f) => f.checkId !== 'container-gather-error' && f.resource.kind === 'container')).toEqual([]);
  });

  it('never quote a spec that does not parse: its env values are secrets', async () => {
    const broken = '{"process":{"env":["PATH=/bin","DB_PASSWORD=hunter2-very-secret",}}';
    const { findings } = await scan([{ id: containerId(4), name: 'db', pid: 2004, rawSpec: broken }]);
    const errors = of(findings, 'container-gather-error');
    expect(errors).toHaveLength(1);
    expect(errors[0].evidence.detail).toMatch(/EINVAL: not JSON: invalid JSON/);
    expect(JSON.stringify(findings)).not.toMatch(/hunter2|secret"/);
  });

  it('flag secret-looking env names only, never values', async () => {
    const { findings } = await scan([{ id: containerId(6), name: 'api', pid: 2006, env: ['PATH=/bin', 'AWS_SECRET_ACCESS_KEY=AKIAXXXXVALUE', 'GITHUB_TOKEN=ghp_value'] }]);
    const [env] = of(findings, 'container-secret-env');
    expect(env).toMatchObject({ status: 'fail', cis: '5.4.1' });
    expect(env.evidence.value).toEqual(['AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN']);
    expect(JSON.stringify(findings)).not.toMatch(/AKIAXXXXVALUE|ghp_value/);
  });

  it('do not take the kubelet\'s service links for secrets (a Service named sealed-secrets-controller)', async () => {
    const links = [
      'SEALED_SECRETS_CONTROLLER_SERVICE_HOST=10.96.0.12', 'SEALED_SECRETS_CONTROLLER_SERVICE_PORT=8080',
      'SEALED_SECRETS_CONTROLLER_SERVICE_PORT_HTTP=8080', 'SEALED_SECRETS_CONTROLLER_PORT=tcp://10.96.0.12:8080',
      'SEALED_SECRETS_CONTROLLER_PORT_8080_TCP=tcp://10.96.0.12:8080', 'SEALED_SECRETS_CONTROLLER_PORT_8080_TCP_PROTO=tcp',
      'SEALED_SECRETS_CONTROLLER_PORT_8080_TCP_PORT=8080', 'SEALED_SECRETS_CONTROLLER_PORT_8080_TCP_ADDR=10.96.0.12',
      'TOKEN_SVC_PORT_53_UDP_ADDR=10.96.0.10',
    ];
    const { findings } = await scan([{ id: containerId(8), name: 'web', pid: 2008, env: ['PATH=/bin', ...links] }]);
    expect(of(findings, 'container-secret-env')[0]).toMatchObject({ status: 'pass' });
    const withSecret = await scan([{ id: containerId(9), name: 'web', pid: 2009, env: [...links, 'VAULT_TOKEN=s.x'] }]);
    expect(of(withSecret.findings, 'container-secret-env')[0]).toMatchObject({ status: 'fail', evidence: { value: ['VAULT_TOKEN'] } });
  });

  it('fail unsafe sysctls set on the pod sandbox, for its containers', async () => {
    const { findings } = await scan([
      { id: sandboxId(7), type: 'sandbox', pod: 'tuned', pid: 2070, sysctl: { 'kernel.msgmax': '65536', 'net.ipv4.tcp_syncookies': '1' } },
      { id: containerId(7), sandboxId: sandboxId(7), pod: 'tuned', name: 'app', pid: 2071 },
    ]);
    expect(of(findings, 'container-sysctls')).toHaveLength(1);
    expect(of(findings, 'container-sysctls')[0]).toMatchObject({ status: 'fail', evidence: { value: ['kernel.msgmax'] } });
  });

  it('keep gather-error ids stable when only counts or pids in the error change', () => {
    const ids = (skipped: number, pid: number) => {
      const snapshot = { containers: {
        sources: [{ runtime: 'cri', path: '/run/containerd/containerd.sock' }], searched: [],
        items: [{
          id: containerId(1), runtime: 'containerd', type: 'container', namespace: 'ns', pod: 'p', container: 'c', pid,
          errors: [
            { path: `/proc/${pid}/status`, code: 'EINVAL', message: 'no valid CapEff line' },
            { path: `/proc/${pid}/status`, code: 'EINVAL', message: 'no valid CapBnd line' },
          ],
        }],
        errors: [
          { path: '/run/containerd/containerd.sock', code: 'ETIMEDOUT', message: `CRI time budget of 10000 ms spent; ${skipped} status calls skipped` },
          { path: '/run/containerd/containerd.sock', code: 'EINVAL', message: 'verbose info is not JSON' },
          { path: '/run/containerd/containerd.sock', code: 'EINVAL', message: 'verbose info is not JSON' },
        ],
      } } as unknown as Snapshot;
      return evaluate(snapshot, containersChecks).filter((f) => f.checkId === 'container-gather-error').map((f) => f.id);
    };
    expect(ids(3, 2001)).toHaveLength(3);
    expect(new Set(ids(3, 2001)).size).toBe(3);
    expect(ids(17, 2345)).toEqual(ids(3, 2001));
  });

  it('keep finding ids stable across scans', async () => {
    const first = (await scan([restricted])).findings.map((f) => f.id);
    built!.cleanup();
    const second = (await scan([restricted])).findings.map((f) => f.id);
    expect(second).toEqual(first);
  });
});

describe('sensitive host paths and secret names', () => {
  it.each([
    ['/', true], ['/etc', true], ['/etc/kubernetes/pki', true], ['/proc', true], ['/var/lib/kubelet/pods', true],
    ['/run/k3s/containerd/containerd.sock', true], ['/var/run/crio/crio.sock', true], ['/etc/ssl/certs', false],
    ['/data', false], ['/var/log', false],
  ])('%s sensitive: %s', (p, yes) => {
    expect(sensitiveHostPath(p) !== undefined).toBe(yes);
  });
  it.each([
    ['DB_PASSWORD', true], ['api_key', true], ['AZURE_STORAGE_KEY', true], ['GOOGLE_APPLICATION_CREDENTIALS', true],
    ['PATH', false], ['HOSTNAME', false], ['LOG_LEVEL', false], ['KUBERNETES_SERVICE_HOST', false],
    ['VAULT_TOKEN_SERVICE_PORT', false], ['MY_SECRETS_PORT_443_TCP', false], ['DB_PASSWORD_FILE', true],
  ])('%s secret-looking: %s', (name, yes) => {
    expect(looksSecret(name)).toBe(yes);
  });
});
