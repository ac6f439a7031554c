// Hostile hosts: every case must end in `error` findings or evidence, never a crash and never a hang.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeReportSchema, type NodeReport } from '../../../proto/report.js';
import { scanNode } from '../../../agent/scan.js';
import { fixturePki } from '../../fixtures/hosts/pki.js';
import { buildHost } from '../../fixtures/build.js';
import { hardenedWorker, WORKER_PIDS } from '../../fixtures/hosts/hardened-worker.js';
import {
  danglingConfig, directoryConfig, fifoConfig, HOSTILE_PIDS, hostileProcesses, hugeConfig, invalidYamlConfig,
  KUBELET_CONFIG, scalarYamlConfig, symlinkLoopConfig,
} from '../../fixtures/hosts/hostile.js';
import { findingsFor, scanFixture, type Scanned } from './verdicts.js';

// Real PKI generation takes seconds on a cold cache: do it under the hook timeout, not a test's.
beforeAll(() => { fixturePki(); });
let current: Scanned | undefined;
const children: ChildProcess[] = [];
afterEach(() => {
  current?.host.cleanup();
  current = undefined;
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The error finding(s) about a host path, with their errno-style code. */
function errorsAbout(report: NodeReport, hostPath: string): { code: string; text: string }[] {
  return report.findings
    .filter((f) => f.status === 'error' && JSON.stringify([f.evidence, f.resource]).includes(hostPath))
    .map((f) => ({ code: /\b(E[A-Z]+)\b/.exec(JSON.stringify(f.evidence))?.[1] ?? '', text: JSON.stringify(f.evidence) }));
}

/** Scans, and checks what every hostile scan must satisfy: a schema-valid report, no judgement on unread settings. */
async function scanHostile(spec: Parameters<typeof scanFixture>[0]): Promise<Scanned> {
  current = await scanFixture(spec);
  expect(() => NodeReportSchema.parse(JSON.parse(JSON.stringify(current!.report)))).not.toThrow();
  return current;
}

/** With the config unreadable, the kubelet's config-file settings are unknown: 4.2.1 must not claim pass, and must not judge guessed defaults. */
function expectKubeletSettingsUnjudged(report: NodeReport): void {
  for (const cis of ['4.2.1', '4.2.2', '4.2.4']) {
    const statuses = findingsFor(report, cis).map((f) => f.status);
    expect(statuses.length, cis).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 'pass' || s === 'fail'), `${cis}: ${statuses.join(',')}`).toEqual([]);
  }
}

describe('hostile kubelet config files', () => {
  it('a config that vanished (dangling symlink): ENOENT error finding naming the path', async () => {
    const s = await scanHostile(danglingConfig());
    expect(s.snapshot.kubelet?.configPath).toBe(KUBELET_CONFIG);
    expect(s.snapshot.kubelet?.configLoaded).toBe(false);
    expect(errorsAbout(s.report, KUBELET_CONFIG).map((e) => e.code)).toContain('ENOENT');
    expectKubeletSettingsUnjudged(s.report);
  });

  it('a symlink loop: ELOOP error finding', async () => {
    const s = await scanHostile(symlinkLoopConfig());
    expect(errorsAbout(s.report, KUBELET_CONFIG).map((e) => e.code)).toContain('ELOOP');
    expectKubeletSettingsUnjudged(s.report);
  });

  it('a 50 MB file: refused unread (EFBIG), quickly', async () => {
    const started = performance.now();
    const s = await scanHostile(hugeConfig());
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(errorsAbout(s.report, KUBELET_CONFIG).map((e) => e.code)).toContain('EFBIG');
    expectKubeletSettingsUnjudged(s.report);
    // The file itself is still a fact: 4.1.9 judges its mode (600) without reading it.
    expect(findingsFor(s.report, '4.1.9').map((f) => f.status)).toContain('pass');
  });

  it('invalid YAML: an error finding, not a crash and not a silent default', async () => {
    const s = await scanHostile(invalidYamlConfig());
    expect(errorsAbout(s.report, KUBELET_CONFIG).length).toBeGreaterThan(0);
    expect(s.snapshot.kubelet?.configLoaded).toBe(false);
    expectKubeletSettingsUnjudged(s.report);
  });

  it('YAML that is not a mapping: an error finding', async () => {
    const s = await scanHostile(scalarYamlConfig());
    expect(errorsAbout(s.report, KUBELET_CONFIG).length).toBeGreaterThan(0);
    expectKubeletSettingsUnjudged(s.report);
  });

  it('a directory where the file should be: an error finding', async () => {
    const s = await scanHostile(directoryConfig());
    expect(errorsAbout(s.report, KUBELET_CONFIG).length).toBeGreaterThan(0);
  });

  it('a FIFO where the config should be: no hang', async () => {
    const host = buildHost(fifoConfig());
    current = { host } as Scanned;
    // Watchdog: a reader blocked in open(2) on the FIFO is released when a writer opens it. If the scan only
    // finishes after the watchdog fired, it was blocked — and on a real node would have hung forever.
    const fifo = join(host.hostRoot, KUBELET_CONFIG);
    const watchdogMs = 8000;
    const watchdog = spawn(process.execPath, ['-e',
      `setTimeout(() => { require('fs').writeFileSync(${JSON.stringify(fifo)}, 'x'); process.stdout.write('fired'); }, ${watchdogMs});`]);
    children.push(watchdog);
    let fired = false;
    watchdog.stdout!.on('data', () => { fired = true; });
    const started = performance.now();
    const { report } = await scanNode({ hostRoot: host.hostRoot, procRoot: host.procRoot });
    const elapsed = performance.now() - started;
    expect(fired, 'the scan blocked on the FIFO until the watchdog wrote to it').toBe(false);
    expect(elapsed).toBeLessThan(watchdogMs);
    expect(errorsAbout(report, KUBELET_CONFIG).length).toBeGreaterThan(0);
  }, 30_000);
});

describe('hostile processes', () => {
  it('empty arguments, invalid UTF-8, binary cmdlines, kernel threads and cmdline-only pids', async () => {
    const s = await scanHostile(hostileProcesses());
    const { components } = s.snapshot;
    // The kubelet's config path survives the empty argument (consecutive NULs) before it.
    expect(components.kubelet?.pid).toBe(WORKER_PIDS.kubelet);
    expect(s.snapshot.kubelet?.configPath).toBe('/var/lib/kubelet/config.yaml');
    expect(findingsFor(s.report, '4.2.1').map((f) => f.status)).toEqual(['pass']);
    // A pid dir with nothing but cmdline is still a component.
    expect(components.containerd?.pid).toBe(HOSTILE_PIDS.cmdlineOnly);
    expect(components['kube-proxy']?.pid).toBe(WORKER_PIDS['kube-proxy']);
    // An overlong-UTF-8 "/" (0xC0 0xAF) before kube-apiserver is not a path separator.
    expect(components['kube-apiserver']).toBeUndefined();
    expect(Object.keys(components).sort()).toEqual(['containerd', 'kube-proxy', 'kubelet']);
  });
});

describe('files that vanish and reappear during scans', () => {
  it('many scans while another process deletes and recreates the kubelet config: every scan completes', async () => {
    current = { host: buildHost(hardenedWorker()) } as Scanned;
    const { hostRoot, procRoot } = current.host;
    const target = join(hostRoot, KUBELET_CONFIG);
    const kubeconfig = join(hostRoot, '/etc/kubernetes/kubelet.conf');
    // Atomic swaps (write a temp file, rename over) so a reader sees the whole file or no file, never half of one.
    const churn = spawn(process.execPath, ['-e', `
      const fs = require('fs');
      const files = ${JSON.stringify([target, kubeconfig])};
      const content = files.map((f) => fs.readFileSync(f));
      const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      for (let n = 0; ; n++) {
        const i = n % files.length;
        try { fs.unlinkSync(files[i]); } catch {}
        sleep(1);
        fs.writeFileSync(files[i] + '.tmp', content[i], { mode: 0o600 });
        fs.renameSync(files[i] + '.tmp', files[i]);
        sleep(1);
      }
    `]);
    children.push(churn);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const { report } = await scanNode({ hostRoot, procRoot });
      for (const f of findingsFor(report, '4.2.1')) seen.add(f.status);
      // When the file was present it said anonymous: false; when absent nothing may be judged from guesses.
      expect(findingsFor(report, '4.2.1').map((f) => f.status).filter((st) => st === 'fail')).toEqual([]);
    }
    churn.kill('SIGKILL');
    expect([...seen]).toContain('pass');
  }, 120_000);
});
