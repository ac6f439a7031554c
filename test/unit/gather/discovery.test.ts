// Component discovery under hostile processes: a fake kubelet run by an unprivileged user (a real process), two
// processes claiming one component, command lines of megabytes, a component's files read through its own root,
// and credentials in URLs kept out of every finding.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanNode } from '../../../agent/scan.js';
import { buildHost, type BuiltHost, type HostSpec } from '../../fixtures/build.js';
import { hardenedWorkerFiles, hardenedWorkerProcs, WORKER_PIDS } from '../../fixtures/hosts/hardened-worker.js';
import { kubeadmEtcdFlags, proc, UBUNTU_OS_RELEASE } from '../../fixtures/hosts/kubeadm.js';

const children: ChildProcess[] = [];
const cleanups: Array<() => void> = [];
let built: BuiltHost | undefined;
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const c of cleanups.splice(0)) c();
  built?.cleanup();
  built = undefined;
});

const isRoot = process.geteuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A real process whose /proc/PID/cmdline reads `title` (perl rewrites its own argv), as `uid`. */
async function fakeProcess(title: string, uid?: number): Promise<ChildProcess> {
  const child = spawn('perl', ['-e', `$0 = ${JSON.stringify(title)}; sleep 600;`], { stdio: 'ignore', ...(uid !== undefined ? { uid, gid: uid } : {}) });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    try {
      if (readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith(title.split(' ')[0])) return child;
    } catch { /* not yet */ }
    await sleep(20);
  }
  throw new Error('the fake process did not start');
}

describe.runIf(isRoot)('a fake kubelet run by nobody (a real process on this machine)', () => {
  it('is not judged as the kubelet, its root-only config is never read, its hostname never becomes the node name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rootonly-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o700);
    const secret = join(dir, 'kubelet.yaml');
    writeFileSync(secret, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ntlsCertFile: /ROOT-ONLY-SECRET-VALUE\n', { mode: 0o600 });
    const fake = await fakeProcess(`kubelet --config=${secret} --hostname-override=evil-node`, 65534);
    const { report, snapshot } = await scanNode({ hostRoot: '/', procRoot: '/proc' });
    expect(JSON.stringify(report)).not.toContain('ROOT-ONLY-SECRET-VALUE');
    expect(report.node.name).not.toBe('evil-node');
    expect(snapshot.components.kubelet?.pid).not.toBe(fake.pid);
    const impostor = report.findings.find((f) => f.checkId === 'vigil.component-impostor' && f.resource.kind === 'component' && f.resource.pid === fake.pid);
    expect(impostor).toMatchObject({ status: 'fail', severity: 'high', evidence: { value: 65534 } });
  });

  it('a real kubelet-named process with a 1.1 MB command line is found, not dropped', async () => {
    const big = Array.from({ length: 11 }, (_, i) => `--node-labels=k${i}=${'v'.repeat(100_000)}`).join(' ');
    const child = spawn('perl', ['-e', 'sleep 600', '--', ...big.split(' ')], { stdio: 'ignore', argv0: 'kubelet' });
    children.push(child);
    await sleep(300);
    const { snapshot } = await scanNode({ hostRoot: '/', procRoot: '/proc', only: ['4.2.1'] });
    expect(snapshot.components.kubelet?.pid).toBe(child.pid);
    expect(snapshot.components.kubelet?.argv.join(' ').length).toBeGreaterThan(1_100_000);
  });
});

async function scanFixture(spec: HostSpec, only?: string[]) {
  built = buildHost(spec);
  return scanNode({ hostRoot: built.hostRoot, procRoot: built.procRoot, ...(only ? { only } : {}) });
}

describe('ambiguity and oversized command lines (fixture hosts)', () => {
  it('two kubelets: an ambiguity finding and no kubelet verdict, instead of the lowest pid', async () => {
    const procs = [...hardenedWorkerProcs(), proc(WORKER_PIDS.kubelet + 1, ['/usr/bin/kubelet', '--anonymous-auth=true'])];
    const { report, snapshot } = await scanFixture({ files: hardenedWorkerFiles(), procs });
    expect(snapshot.components.kubelet?.candidates).toEqual([WORKER_PIDS.kubelet, WORKER_PIDS.kubelet + 1]);
    expect(report.findings.filter((f) => f.cis === '4.2.1').map((f) => f.status)).toEqual(['error']);
    expect(report.findings.find((f) => f.checkId === 'vigil.component-ambiguous')).toMatchObject({
      status: 'error', evidence: { value: [WORKER_PIDS.kubelet, WORKER_PIDS.kubelet + 1] },
    });
  });

  it('a command line over the bound: an error finding and error verdicts, never a vanished kubelet', async () => {
    const procs = hardenedWorkerProcs().map((p) => (p.pid === WORKER_PIDS.kubelet
      ? { ...p, argv: Buffer.from(`/usr/bin/kubelet\0--node-labels=${'x'.repeat(5 * 1024 * 1024)}\0`) } : p));
    const { report, snapshot } = await scanFixture({ files: hardenedWorkerFiles(), procs });
    expect(snapshot.components.kubelet).toMatchObject({ pid: WORKER_PIDS.kubelet, argvProblems: [{ kind: 'unreadable' }] });
    expect(report.findings.filter((f) => f.cis === '4.2.1').map((f) => f.status)).toEqual(['error']);
    const gatherError = report.findings.find((f) => f.checkId === 'vigil.gather-error' && f.resource.kind === 'file' && f.resource.path.endsWith(`/${WORKER_PIDS.kubelet}/cmdline`));
    expect(gatherError).toMatchObject({ status: 'error', evidence: { detail: expect.stringMatching(/^EFBIG: command line over/) } });
  });
});

describe("a component's own files, read through its /proc/PID/root", () => {
  it("the kubelet's config is the one in the kubelet's root, not the host's file at the same path", async () => {
    const files = hardenedWorkerFiles();
    const containerRoot = '/run/containers/kubelet-rootfs';
    const spec: HostSpec = {
      files: {
        ...files,
        // The host's file says anonymous auth is on; the kubelet's own root (a container) says off.
        '/var/lib/kubelet/config.yaml': { content: 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: true\n', mode: 0o600 },
        [`${containerRoot}/var/lib/kubelet/config.yaml`]: files['/var/lib/kubelet/config.yaml'],
      },
      procs: hardenedWorkerProcs(),
    };
    built = buildHost(spec);
    symlinkSync(join(built.hostRoot, containerRoot), join(built.procRoot, String(WORKER_PIDS.kubelet), 'root'));
    const { report } = await scanNode({ hostRoot: built.hostRoot, procRoot: built.procRoot, only: ['4.2.1'] });
    expect(report.findings.map((f) => f.status)).toEqual(['pass']);
  });
});

describe('URL userinfo never reaches a finding', () => {
  it('--etcd-servers, ETCD_INITIAL_CLUSTER and manifest values lose user:password@', async () => {
    const spec: HostSpec = {
      files: { '/etc/os-release': UBUNTU_OS_RELEASE },
      procs: [
        proc(300, ['kube-apiserver', '--etcd-servers=https://apiuser:s3cr3t-api@10.0.0.5:2379,https://apiuser:s3cr3t-api@10.0.0.6:2379', '--profiling=false']),
        proc(301, ['etcd', ...kubeadmEtcdFlags().filter((f) => !f.startsWith('--initial-cluster='))],
          { env: { ETCD_INITIAL_CLUSTER: 'cp-1=https://peer:s3cr3t-peer@10.0.0.5:2380,cp-2=https://peer:p%40ss@10.0.0.6:2380' } }),
      ],
    };
    const { report, snapshot } = await scanFixture(spec);
    const text = JSON.stringify({ report, components: snapshot.components });
    expect(text).not.toMatch(/s3cr3t|p%40ss|apiuser|peer:/);
    const inventory = report.findings.find((f) => f.checkId === 'inventory-etcd-endpoints');
    expect(inventory?.evidence.value).toBe('https://10.0.0.5:2379,https://10.0.0.6:2379');
    const peers = report.findings.find((f) => f.checkId === 'inventory-etcd-peers');
    expect(peers?.evidence.value).toBe('cp-1=https://10.0.0.5:2380,cp-2=https://10.0.0.6:2380');
  });
});
