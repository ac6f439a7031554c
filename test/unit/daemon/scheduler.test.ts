// The scheduler's fast path on a kubeadm control-plane fixture: a component process replaced with new flags is
// re-judged at once (its components re-gathered, not the containers), a new listener re-gathers only the sockets, a
// kernel setting is polled, container events re-gather the containers they name, and the event stream's absence
// becomes a finding. The sources are the real ones over the fixture, with the probe's answers steered by the test
// where a fixture cannot change by itself.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeReport } from '../../../proto/report.js';
import { ScanScheduler, type ContainerWatchMode } from '../../../agent/daemon/scheduler.js';
import { hostSources, type ContainerEventHandlers, type FastPathSources } from '../../../agent/daemon/sources.js';
import type { SocketFact } from '../../../agent/facts/sockets.js';
import { HostAccess } from '../../../agent/gather/host.js';
import { AgentMetrics } from '../../../agent/ship/metrics.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmApiserverFlags } from '../../fixtures/hosts/kubeadm.js';
import { KUBEADM_PIDS, kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { tempDir } from '../../harness/integration.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

interface Rig {
  host: BuiltHost;
  scheduler: ScanScheduler;
  scans: Array<{ trigger: string; report: NodeReport }>;
  calls: Record<string, number>;
  events?: ContainerEventHandlers;
  metrics: AgentMetrics;
  /** What each re-gather was asked for. */
  regathered: Array<Parameters<FastPathSources['regather']>[1]>;
}

async function rig(override: (base: FastPathSources, host: BuiltHost) => Partial<FastPathSources> = () => ({}),
  containerWatch: ContainerWatchMode = 'auto', withRuntime = false, only?: string[]): Promise<Rig> {
  const spec = kubeadmControlPlane();
  // containerd's state dir, as a node with a container runtime has it.
  if (withRuntime) spec.files = { ...spec.files, '/run/containerd/io.containerd.runtime.v2.task/k8s.io': { dir: true } };
  const host = buildHost(spec);
  const state = tempDir('scheduler');
  cleanups.push(() => { host.cleanup(); state.cleanup(); });
  const opts = { hostRoot: host.hostRoot, procRoot: host.procRoot, only };
  const access = new HostAccess(opts);
  const base = hostSources(opts, access);
  const calls: Record<string, number> = { sockets: 0, containers: 0, processes: 0, kernel: 0, listeners: 0, events: 0 };
  const r: Partial<Rig> = { host, scans: [], calls, regathered: [] };
  const sources: FastPathSources = {
    ...base,
    regather: (s, what, o, h) => {
      r.regathered!.push(what);
      if (what.sockets) calls.sockets++;
      if (what.containers) calls.containers++;
      if (what.processes) calls.processes++;
      return base.regather(s, what, o, h);
    },
    kernel: () => { calls.kernel++; return base.kernel(); },
    listeners: () => { calls.listeners++; return base.listeners(); },
    containerEvents: (h) => { calls.events++; r.events = h; return { socket: '/run/containerd/containerd.sock', close: async () => undefined }; },
    ...override(base, host),
  };
  const metrics = new AgentMetrics(() => undefined);
  const scheduler: ScanScheduler = new ScanScheduler({
    scan: opts, host: access, sources, stateDir: state.path, rescanIntervalMs: 600_000, fastIntervalMs: 50,
    containerWatch, metrics, log: pino({ level: 'silent' }),
    onScanned: (trigger) => r.scans!.push({ trigger, report: scheduler.report() }),
  });
  await scheduler.start();
  scheduler.watch();
  cleanups.push(() => scheduler.stop());
  return { ...r, scheduler, metrics } as Rig;
}

async function until<T>(what: string, probe: () => T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const status = (report: NodeReport, checkId: string): string | undefined => report.findings.find((f) => f.checkId === checkId)?.status;

describe('the fast path', () => {
  it('re-judges a kube-apiserver restarted with a changed flag at once (a full scan)', async () => {
    const r = await rig();
    expect(status(r.scheduler.report(), 'cis-1.2.15')).toBe('fail');
    // The process is replaced: the old pid goes, a new one runs with --profiling=false.
    const old = join(r.host.procRoot, String(KUBEADM_PIDS['kube-apiserver']));
    const next = join(r.host.procRoot, '7001');
    renameSync(old, next);
    writeFileSync(join(next, 'cmdline'), ['kube-apiserver', ...kubeadmApiserverFlags(), '--profiling=false'].map((a) => a + '\0').join(''));
    const scan = await until('the re-judged finding', () => r.scans.find((s) => status(s.report, 'cis-1.2.15') === 'pass'));
    expect(scan.trigger).toBe('processes');
    // Only the components were re-gathered: no container, no full scan.
    expect(r.regathered).toEqual([{ processes: true, sockets: false }]);
    expect(r.scans.filter((s) => s.trigger === 'interval' || s.trigger === 'start')).toEqual([]);
  });

  it('does not rescan when a process that is no component comes and goes', async () => {
    const r = await rig();
    const before = r.scans.length;
    const dir = join(r.host.procRoot, '7002');
    mkdirSync(dir);
    writeFileSync(join(dir, 'cmdline'), 'sleep\u00003600\u0000');
    await new Promise((res) => setTimeout(res, 200));
    rmSync(dir, { recursive: true });
    await new Promise((res) => setTimeout(res, 200));
    expect(r.scans.slice(before)).toEqual([]);
    expect(r.calls.sockets).toBe(0);
    expect(r.calls.processes).toBe(0);
  });

  it('a new listener re-gathers the sockets and re-runs only the checks that read them', async () => {
    let extra: SocketFact[] = [];
    let signature = 'a';
    const r = await rig((base) => ({
      listeners: () => signature,
      // The fixture's tables cannot change by themselves: the re-gathered sockets get the test's listener.
      regather: async (s, what, o) => {
        const g = await base.regather(s, what, o);
        if (!what.sockets) return g;
        const sockets = [...g.snapshot.sockets.filter((x) => x.inode !== 999_999), ...extra];
        return { snapshot: { ...g.snapshot, sockets }, changed: { ...g.changed, sockets: true } };
      },
    }));
    extra = [{ protocol: 'tcp', address: '0.0.0.0', port: 31337, inode: 999_999, pid: 4242, process: 'nc' }];
    signature = 'b';
    const scan = await until('the listener finding', () => r.scans.find((s) => s.report.findings.some((f) => f.checkId === 'port-listener'
      && f.title.includes('0.0.0.0:31337') && f.status === 'warn')));
    expect(scan.trigger).toBe('sockets');
    extra = [];
    signature = 'c';
    await until('the listener gone', () => r.scans.find((s) => s !== scan && s.trigger === 'sockets'
      && !s.report.findings.some((f) => f.title.includes('0.0.0.0:31337'))));
    expect(r.scans.filter((s) => s.trigger === 'processes')).toEqual([]);
  });

  it('polls the kernel settings at a period set by their cost, and re-judges a change', async () => {
    const r = await rig();
    expect(status(r.scheduler.report(), 'kernel-dmesg-restrict')).toBe('skip');
    const sysctl = join(r.host.procRoot, 'sys', 'kernel', 'dmesg_restrict');
    mkdirSync(join(r.host.procRoot, 'sys', 'kernel'), { recursive: true });
    writeFileSync(sysctl, '1\n');
    await until('the restricted dmesg judged', () => r.scans.find((s) => s.trigger === 'kernel' && status(s.report, 'kernel-dmesg-restrict') === 'pass'));
    writeFileSync(sysctl, '0\n');
    const scan = await until('the change judged', () => r.scans.find((s) => s.trigger === 'kernel' && status(s.report, 'kernel-dmesg-restrict') === 'fail'));
    expect(r.scans.filter((s) => s.trigger === 'processes')).toEqual([]);
    expect(scan.report.findings.filter((f) => f.checkId === 'kernel-dmesg-restrict')).toHaveLength(1);
  });

  it('re-gathers the container a task start names, and once more after the burst', async () => {
    const r = await rig();
    r.events!.onSubscribed();
    await until('the re-read after subscribing', () => r.calls.containers >= 1);
    expect(r.regathered[0]).toMatchObject({ containers: 'all' }); // nothing is replayed: everything is read
    const before = r.calls.containers;
    const at = new Date();
    r.events!.onEvent({ kind: 'task-start', containerId: 'abc', namespace: 'k8s.io', pid: 4242, at });
    await until('the containers re-gathered', () => r.scans.find((s) => s.trigger.includes('containers')) && r.calls.containers > before);
    await until('the confirming re-read', () => r.calls.containers >= before + 2, 3_000);
    expect(r.calls.sockets).toBeGreaterThanOrEqual(2); // a container's sockets come with it
    expect(r.regathered.slice(-2)).toEqual([{ processes: false, sockets: true, containers: ['abc'] }, { processes: false, sockets: true, containers: ['abc'] }]);
    // An exec ending inside a container changes nothing the checks read.
    r.events!.onEvent({ kind: 'task-exit', containerId: 'abc', execId: 'exec-1', namespace: 'k8s.io', pid: 4300, exitStatus: 0, at });
    await new Promise((res) => setTimeout(res, 700));
    expect(r.calls.containers).toBe(before + 2);
  });

  it('says in a finding when container events are unavailable, and stops saying so once subscribed', async () => {
    const r = await rig(undefined, 'auto', true);
    r.events!.onUnavailable('/run/containerd/containerd.sock does not answer (connect ENOENT)');
    const down = await until('the fallback finding', () => r.scans.find((s) => s.report.findings.some((f) => f.checkId === 'vigil.watch.container-events-unavailable')));
    const finding = down.report.findings.find((f) => f.checkId === 'vigil.watch.container-events-unavailable')!;
    expect(finding.status).toBe('warn');
    expect(finding.evidence.detail).toMatch(/does not answer.*judged when the runtime state dir changes/);
    expect(r.scheduler.containerWatch).toBe('state-dir');
    r.events!.onSubscribed();
    await until('the finding gone', () => r.scans.find((s) => s !== down && !s.report.findings.some((f) => f.checkId === 'vigil.watch.container-events-unavailable')));
    expect(r.scheduler.containerWatch).toBe('events');
  });

  it('probes, polls and subscribes only for what the selected checks read', async () => {
    const all = await rig();
    const only = await rig(undefined, 'auto', true, ['4.2']);
    await new Promise((res) => setTimeout(res, 300));
    expect(all.calls.listeners).toBeGreaterThan(2);
    expect(all.calls.kernel).toBeGreaterThan(0);
    expect(all.calls.events).toBe(1);
    // CIS 4.2 reads kubelet settings: no sockets, kernel or containers.
    expect(only.calls).toMatchObject({ listeners: 0, kernel: 0, events: 0 });
  });

  it('says nothing about container events on a node without a container runtime', async () => {
    const r = await rig(() => ({ containerEvents: () => undefined }));
    expect(r.scheduler.report().findings.some((f) => f.checkId === 'vigil.watch.container-events-unavailable')).toBe(false);
    const withRuntime = await rig(() => ({ containerEvents: () => undefined }), 'auto', true);
    const finding = withRuntime.scheduler.report().findings.find((f) => f.checkId === 'vigil.watch.container-events-unavailable');
    expect(finding?.evidence.detail).toMatch(/no containerd socket found/);
  });

  it('carries the agent\'s own conditions (the outbox\'s disk) in every report until cleared', async () => {
    const r = await rig();
    const finding = { ...r.scheduler.report().findings[0], id: 'vigil.outbox.write-failed:x', checkId: 'vigil.outbox.write-failed' };
    r.scheduler.setCondition('outbox', finding);
    await until('a report with it', () => r.scans.find((s) => s.report.findings.some((f) => f.id === finding.id)));
    r.scheduler.setCondition('outbox', undefined);
    await until('a report without it', () => r.scans.at(-1) && !r.scans.at(-1)!.report.findings.some((f) => f.id === finding.id));
  });
});
