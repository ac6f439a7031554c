// Watch targets are derived from what the catalogue's producers declare they read, resolved on each node.
import { posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../../agent/evaluate/catalogue.js';
import { sensitiveFileChangedCheck } from '../../../agent/evaluate/producers.js';
import { covers, inputTargets } from '../../../agent/facts/inputs.js';
import type { Snapshot } from '../../../agent/facts/snapshot.js';
import { HostAccess } from '../../../agent/gather/host.js';
import { sensitiveKind, watchTargets } from '../../../agent/watch/targets.js';
import { fixturePki } from '../../fixtures/hosts/pki.js';
import { FIXTURE_HOSTS } from '../scan/fixture-hosts.js';
import { scanFixture, type Scanned } from '../scan/verdicts.js';

const scanned = new Map<string, Scanned>();
beforeAll(async () => {
  fixturePki();
  for (const [name, spec] of Object.entries(FIXTURE_HOSTS)) scanned.set(name, await scanFixture(spec()));
});
afterAll(() => { for (const s of scanned.values()) s.host.cleanup(); });

const watched = (s: Snapshot, path: string): boolean => watchTargets(s, {}).some((t) => covers(t, path));

describe('watch targets', () => {
  it('cover every host path a producer of findings declares it reads, on every fixture node', () => {
    const missed: string[] = [];
    for (const [name, { snapshot }] of scanned) {
      const targets = watchTargets(snapshot, {});
      for (const check of CATALOGUE) {
        for (const input of check.reads) {
          for (const t of inputTargets(input, snapshot, {})) {
            const dir = targets.find((w) => w.path === t.path && (w.depth ?? -1) >= (t.depth ?? -1));
            if (!dir && !(t.depth === undefined && targets.some((w) => covers(w, t.path)))) missed.push(`${name}: ${check.id} ${t.path}`);
          }
        }
      }
    }
    expect(missed).toEqual([]);
  });

  it('follow the node: the etcd data dir where etcd runs, the CNI dir k3s really uses, a drop-in dir outside the defaults', () => {
    expect(watched(scanned.get('kubeadm-control-plane')!.snapshot, '/var/lib/etcd/member')).toBe(true);
    expect(watched(scanned.get('hardened-worker')!.snapshot, '/var/lib/etcd/member')).toBe(false);
    const k3s = scanned.get('k3s-server')!.snapshot;
    expect(k3s.cni.confDir).toMatch(/^\/var\/lib\/rancher\/k3s\//);
    expect(watched(k3s, posix.join(k3s.cni.confDir!, '10-flannel.conflist'))).toBe(true);
    const dropIns = scanned.get('config-dir-drop-ins')!.snapshot;
    expect(dropIns.kubelet?.configDir).toBeDefined();
    expect(watched(dropIns, posix.join(dropIns.kubelet!.configDir!, '99-new.conf'))).toBe(true);
  });

  it('declare every sensitive file the watcher can report as an input of the sensitive-file producer', () => {
    const undeclared: string[] = [];
    for (const [name, s] of scanned) {
      const host = new HostAccess(s.host);
      const declared = sensitiveFileChangedCheck.reads.flatMap((i) => inputTargets(i, s.snapshot, {}));
      for (const t of watchTargets(s.snapshot, {})) {
        const paths = t.depth === undefined ? [t.path] : host.walk(t.path, 5_000)
          .filter((f) => f.type !== 'dir' && posix.relative(t.path, f.path).split('/').length <= t.depth! + 1).map((f) => f.path);
        for (const p of paths) {
          if (sensitiveKind(p, s.snapshot) && !declared.some((d) => covers(d, p))) undeclared.push(`${name}: ${p}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });
});
