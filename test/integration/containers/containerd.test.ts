// Real containerd + runc with a private root/state/socket: three pods, then the scan pipeline pointed at
// that containerd must report exactly the expected failures, attributed to the right pod and container.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { gatherSnapshot } from '../../../agent/gather/index.js';
import { evaluate } from '../../../agent/evaluate/check.js';
import { containersChecks } from '../../../agent/evaluate/checks/containers/index.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { describeWithDaemons } from '../../harness/integration.js';
import { containerdBinaries, containerdLogTail, startContainerd, TEST_IMAGE, type ContainerdHarness, type RunningPod } from '../../harness/containerd.js';
import { privilegedPod, restrictedPod, socketPod } from './pods.js';

const SECRET_VALUE = 'not-a-real-password-7f3a';

const EXPECTED_FAILURES: Record<string, string[]> = {
  'team-a/priv/admin-shell': [
    'container-capabilities-restricted', 'container-host-ipc', 'container-host-network', 'container-host-pid',
    'container-net-raw', 'container-privilege-escalation', 'container-privileged', 'container-read-only-root-fs',
    'container-root-uid', 'container-run-as-non-root', 'container-seccomp-restricted',
  ],
  'team-b/sock/app': [
    'container-capabilities-baseline', 'container-capabilities-restricted', 'container-host-path', 'container-net-raw',
    'container-privilege-escalation', 'container-read-only-root-fs', 'container-restricted-volumes', 'container-root-uid',
    'container-run-as-non-root', 'container-seccomp-restricted', 'container-secret-env', 'container-sensitive-host-mount',
  ],
  'team-c/restricted/web': [],
};

function key(f: Finding): string {
  const r = f.resource as { namespace?: string; pod?: string; container?: string };
  return `${r.namespace}/${r.pod}/${r.container}`;
}

function failuresByContainer(findings: Finding[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of findings) {
    if (f.resource.kind !== 'container' || f.status !== 'fail') continue;
    (out[key(f)] ??= []).push(f.checkId);
  }
  for (const k of Object.keys(out)) out[k] = [...new Set(out[k])].sort();
  return out;
}

describeWithDaemons('real containerd: container privileges', containerdBinaries(), () => {
  let h: ContainerdHarness;
  const pods: Record<string, RunningPod> = {};
  let snapshot: Snapshot;
  let findings: Finding[];

  beforeAll(async () => {
    h = await startContainerd();
    try {
      pods.a = await h.runPod('priv', 'team-a', privilegedPod);
      pods.b = await h.runPod('sock', 'team-b', socketPod(h.socket));
      pods.c = await h.runPod('restricted', 'team-c', restrictedPod);
    } catch (err) {
      const tail = containerdLogTail(h);
      await h.stop();
      throw new Error(`${(err as Error).message}\ncontainerd log:\n${tail}`);
    }
    snapshot = await gatherSnapshot({ hostRoot: '/', procRoot: '/proc', containerdStateDir: h.state, criSocket: h.socket });
    findings = evaluate(snapshot, containersChecks);
  }, 240_000);

  afterAll(async () => {
    await h?.stop();
  }, 120_000);

  it('reports exactly the expected failures per container', () => {
    const got = failuresByContainer(findings);
    expect({ ...Object.fromEntries(Object.keys(EXPECTED_FAILURES).map((k) => [k, []])), ...got }).toEqual(EXPECTED_FAILURES);
    expect(findings.filter((f) => f.status === 'error')).toEqual([]);
  });

  it('gives (c), the restricted pod, no baseline or restricted failure', () => {
    const c = findings.filter((f) => key(f) === 'team-c/restricted/web');
    expect(c.length).toBeGreaterThan(15);
    expect(c.filter((f) => f.level && f.status !== 'pass')).toEqual([]);
  });

  it('attributes findings to the right container, image and pid', async () => {
    for (const [name, pod] of Object.entries(pods)) {
      const [id] = pod.containerIds;
      const status = await h.cri.call('ContainerStatus', { container_id: id, verbose: true });
      const pid = JSON.parse(status.info.info).pid as number;
      const item = snapshot.containers.items.find((i) => i.id === id)!;
      expect(item, name).toBeDefined();
      expect(item.pid).toBe(pid);
      const mine = findings.filter((f) => f.resource.kind === 'container' && (f.resource as { id: string }).id === id);
      expect(mine.length, name).toBeGreaterThan(15);
      for (const f of mine) expect(f.resource).toMatchObject({ image: TEST_IMAGE, pid });
    }
    const sensitive = findings.find((f) => f.checkId === 'container-sensitive-host-mount' && f.status === 'fail')!;
    expect(sensitive.severity).toBe('critical');
    expect(sensitive.title).toContain(h.socket);
    const caps = findings.find((f) => f.checkId === 'container-capabilities-baseline' && f.status === 'fail')!;
    expect(caps.title).toContain('SYS_ADMIN');
    expect(caps.cis).toBe('5.2.9');
    const priv = findings.find((f) => f.checkId === 'container-privileged' && f.status === 'fail')!;
    expect(priv).toMatchObject({ pss: 'privileged', level: 'baseline', cis: '5.2.2', severity: 'critical' });
  });

  it('reads the kernel truth: capabilities, no_new_privs, seccomp, uid and host namespaces', () => {
    const byName = (n: string) => snapshot.containers.items.find((i) => i.container === n)!;
    expect(snapshot.containers.hostReference).toBeDefined();
    const a = byName('admin-shell').kernel!;
    expect(a.capEff).toContain('SYS_ADMIN');
    expect(a.sharedWithHost).toEqual(expect.arrayContaining(['pid', 'ipc', 'net', 'uts']));
    const b = byName('app').kernel!;
    expect(b.capEff).toContain('SYS_ADMIN');
    expect(b.sharedWithHost).not.toContain('net');
    const c = byName('web').kernel!;
    expect(c).toMatchObject({ capEff: [], noNewPrivs: true, seccompMode: 2, uid: 1000 });
    expect(c.sharedWithHost).not.toEqual(expect.arrayContaining(['pid']));
    // Sandboxes tell the pod's namespaces but are not judged.
    expect(snapshot.containers.items.filter((i) => i.type === 'sandbox')).toHaveLength(3);
    expect(findings.some((f) => (f.resource as { id?: string }).id === pods.a.sandboxId)).toBe(false);
  });

  it('never lets an env value out of gather', () => {
    expect(JSON.stringify(snapshot)).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(findings)).not.toContain(SECRET_VALUE);
    const env = findings.find((f) => f.checkId === 'container-secret-env' && f.status === 'fail')!;
    expect(env.evidence.value).toEqual(['DB_PASSWORD']);
  });

  it('judges the same failures from the state dir alone (no CRI socket)', async () => {
    const ociOnly = await gatherSnapshot({ hostRoot: '/', procRoot: '/proc', containerdStateDir: h.state, criSocket: '/nonexistent/cri.sock' });
    const f = evaluate(ociOnly, containersChecks);
    expect(failuresByContainer(f)).toEqual(Object.fromEntries(Object.entries(EXPECTED_FAILURES).filter(([, v]) => v.length > 0)));
    // Host ports are not in an OCI spec: skipped, with the reason.
    const ports = f.filter((x) => x.checkId === 'container-host-ports');
    expect(ports.every((x) => x.status === 'skip' && /CRI socket/.test(x.evidence.detail ?? ''))).toBe(true);
  });
}, { needsRoot: true });
