import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../../agent/gather/host.js';
import { SensitiveFiles } from '../../../agent/watch/sensitive.js';
import { sensitiveKind, watchTargets } from '../../../agent/watch/targets.js';
import { HostWatcher } from '../../../agent/watch/watcher.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { tempDir } from '../../harness/integration.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

function fixture(): { built: BuiltHost; host: HostAccess } {
  const built = buildHost({
    files: {
      '/etc/kubernetes/manifests/kube-apiserver.yaml': { content: 'kind: Pod\n', mode: 0o600 },
      '/etc/kubernetes/pki/ca.crt': { content: 'CERT\n', mode: 0o644 },
      '/etc/kubernetes/admin.conf': { content: 'kind: Config\n', mode: 0o600 },
      '/var/lib/kubelet/config.yaml': { content: 'kind: KubeletConfiguration\n', mode: 0o644 },
      '/var/lib/kubelet/pods/p1/volumes/v/secret': { content: 's', mode: 0o600 },
      '/lib/systemd/system/kubelet.service': { content: '[Service]\n', mode: 0o644 },
    },
  });
  cleanups.push(() => built.cleanup());
  return { built, host: new HostAccess(built) };
}

/** Resolves with the first batch containing `path`, or rejects after ms. */
function nextBatchWith(batches: Array<Set<string>>, path: string, ms = 3_000): Promise<Set<string>> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const hit = batches.find((b) => b.has(path));
      if (hit) resolve(hit);
      else if (Date.now() > deadline) reject(new Error(`no change reported for ${path}; got ${JSON.stringify(batches.map((b) => [...b]))}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe('HostWatcher', () => {
  it('reports a mode-only change of a file that was read before, as a host path, in one debounced batch', async () => {
    const { built, host } = fixture();
    const batches: Array<Set<string>> = [];
    const w = new HostWatcher({ host, onChange: (p) => batches.push(p) });
    cleanups.push(() => w.close());
    w.add(watchTargets(undefined, {}));
    await new Promise((r) => setTimeout(r, 300)); // chokidar's initial scan
    host.readFile('/var/lib/kubelet/config.yaml'); // atime now after mtime: chokidar's own change filter would skip the chmod
    await new Promise((r) => setTimeout(r, 50));
    chmodSync(join(built.hostRoot, 'var/lib/kubelet/config.yaml'), 0o666);
    chmodSync(join(built.hostRoot, 'etc/kubernetes/pki/ca.crt'), 0o600);
    const batch = await nextBatchWith(batches, '/var/lib/kubelet/config.yaml');
    await nextBatchWith(batches, '/etc/kubernetes/pki/ca.crt');
    expect([...batch].every((p) => p.startsWith('/') && !p.startsWith(built.hostRoot))).toBe(true);
    expect(w.mode).toBe('inotify');
  });

  it('does not descend into the kubelet pod volumes and sees new static pod manifests', async () => {
    const { built, host } = fixture();
    const batches: Array<Set<string>> = [];
    const w = new HostWatcher({ host, onChange: (p) => batches.push(p) });
    cleanups.push(() => w.close());
    w.add(watchTargets(undefined, {}));
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(built.hostRoot, 'var/lib/kubelet/pods/p1/volumes/v/secret'), 'changed');
    writeFileSync(join(built.hostRoot, 'etc/kubernetes/manifests/evil.yaml'), 'kind: Pod\n');
    await nextBatchWith(batches, '/etc/kubernetes/manifests/evil.yaml');
    expect(batches.some((b) => [...b].some((p) => p.includes('/pods/')))).toBe(false);
  });

  it('falls back to polling when inotify watches run out, says why, and still sees changes', async () => {
    const { built, host } = fixture();
    const batches: Array<Set<string>> = [];
    const reasons: string[] = [];
    const w = new HostWatcher({ host, onChange: (p) => batches.push(p), pollIntervalMs: 100, onFallback: (r) => reasons.push(r) });
    cleanups.push(() => w.close());
    w.add(watchTargets(undefined, {}));
    // What chokidar emits when fs.watch() fails with the kernel's inotify limit.
    w.handleWatchError(Object.assign(new Error('System limit for number of file watchers reached'), { code: 'ENOSPC' }));
    expect(w.mode).toBe('polling');
    expect(reasons[0]).toMatch(/^ENOSPC/);
    chmodSync(join(built.hostRoot, 'etc/kubernetes/admin.conf'), 0o644);
    await nextBatchWith(batches, '/etc/kubernetes/admin.conf');
  });
});

describe('sensitive files', () => {
  it('classifies static pod manifests, kubelet config, kubeconfigs, PKI and unit files', () => {
    expect(sensitiveKind('/etc/kubernetes/manifests/x.yaml', undefined)).toBe('static-pod-manifest');
    expect(sensitiveKind('/var/lib/kubelet/config.yaml', undefined)).toBe('kubelet-config');
    expect(sensitiveKind('/etc/kubernetes/admin.conf', undefined)).toBe('kubeconfig');
    expect(sensitiveKind('/etc/kubernetes/pki/etcd/ca.key', undefined)).toBe('pki');
    expect(sensitiveKind('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', undefined)).toBe('unit-file');
    expect(sensitiveKind('/etc/hostname', undefined)).toBeUndefined();
  });

  it('records a baseline first, then reports changes with before/after hash, mode and owner, across restarts', () => {
    const { built, host } = fixture();
    const state = tempDir('sensitive');
    cleanups.push(() => state.cleanup());
    const manifest = '/etc/kubernetes/manifests/kube-apiserver.yaml';
    const first = new SensitiveFiles(host, state.path);
    first.observe([[manifest, 'static-pod-manifest']]);
    expect(first.findings()).toEqual([]);

    chmodSync(join(built.hostRoot, manifest), 0o644);
    first.observe([[manifest, 'static-pod-manifest']]);
    const [f] = first.findings();
    expect(f.checkId).toBe('vigil.watch.sensitive-file-changed');
    expect(f.severity).toBe('high');
    expect(f.evidence.detail).toBe('mode 0600 → 0644');
    const value = f.evidence.value as { change: string; before: { mode: string; sha256: string; owner: string }; after: { mode: string; sha256: string } };
    expect(value.change).toBe('metadata');
    expect(value.before.mode).toBe('0600');
    expect(value.after.mode).toBe('0644');
    expect(value.before.sha256).toBe(value.after.sha256);
    expect(value.before.owner).toBe('root:root');

    // Changed while the agent was down: the next agent compares with the persisted baseline.
    const injected = '/etc/kubernetes/manifests/backdoor.yaml';
    const restarted = new SensitiveFiles(host, state.path);
    writeFileSync(join(built.hostRoot, injected), 'kind: Pod\nspec: {hostPID: true}\n');
    restarted.observe([[manifest, 'static-pod-manifest'], [injected, 'static-pod-manifest']]);
    const byPath = new Map(restarted.findings().map((x) => [x.resource.kind === 'file' ? x.resource.path : '', x]));
    expect(byPath.get(injected)?.title).toBe('Sensitive file changed: static pod manifest created');
    expect((byPath.get(injected)?.evidence.value as { after: { sha256: string } }).after.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(byPath.has(manifest)).toBe(true);
  });

  it('drops change findings after their time to live', () => {
    const { built, host } = fixture();
    const state = tempDir('sensitive');
    cleanups.push(() => state.cleanup());
    let now = 1_000_000;
    const s = new SensitiveFiles(host, state.path, () => now);
    s.observe([['/etc/kubernetes/admin.conf', 'kubeconfig']]);
    chmodSync(join(built.hostRoot, 'etc/kubernetes/admin.conf'), 0o644);
    s.observe([['/etc/kubernetes/admin.conf', 'kubeconfig']]);
    expect(s.findings()).toHaveLength(1);
    now += 25 * 3600 * 1000;
    expect(s.findings()).toHaveLength(0);
  });
});
