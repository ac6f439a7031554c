// The host door under a race: another process keeps turning a manifest, and the directory holding it, into
// absolute symlinks (which on the agent's own filesystem point at a file outside --host-root) and back. Reads and
// scans that run meanwhile may fail or see the file inside the root, but never read the one outside.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAccess } from '../../../agent/gather/host.js';
import { scanNode } from '../../../agent/scan.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { apiserverManifest, kubeadmApiserverFlags } from '../../fixtures/hosts/kubeadm.js';

const INSIDE = '--audit-log-path=/var/log/INSIDE-THE-ROOT.log';
const OUTSIDE = '--audit-log-path=/var/log/OUTSIDE-THE-ROOT.log';
const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

let built: BuiltHost | undefined;
let outside: string | undefined;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  built?.cleanup();
  if (outside) rmSync(outside, { recursive: true, force: true });
  built = undefined;
  outside = undefined;
});

/** Flips the manifest (a file ↔ an absolute symlink) and its directory (a directory ↔ an absolute symlink). */
function startFlipper(hostRoot: string, outsideDir: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', `
    const fs = require('fs');
    const dir = ${JSON.stringify(join(hostRoot, 'etc/kubernetes/manifests'))};
    const file = dir + '/kube-apiserver.yaml';
    const inside = fs.readFileSync(file);
    const outsideDir = ${JSON.stringify(outsideDir)};
    for (let n = 0; ; n++) {
      try {
        if (n % 2 === 0) {
          fs.symlinkSync(outsideDir + '/kube-apiserver.yaml', file + '.link');
          fs.renameSync(file + '.link', file);
          fs.writeFileSync(file + '.tmp', inside);
          fs.renameSync(file + '.tmp', file);
        } else {
          fs.renameSync(dir, dir + '.away');
          fs.symlinkSync(outsideDir, dir);
          fs.unlinkSync(dir);
          fs.renameSync(dir + '.away', dir);
        }
      } catch {}
    }
  `], { stdio: 'ignore' });
  children.push(child);
  return child;
}

function raceSetup(): { hostRoot: string; procRoot: string } {
  const flags = kubeadmApiserverFlags().filter((f) => !f.startsWith('--audit-log-path'));
  built = buildHost({ files: { [MANIFEST]: { content: apiserverManifest([...flags, INSIDE]), mode: 0o600 } } });
  // The same absolute paths exist on the agent's own filesystem, outside the host root, with other content.
  outside = mkdtempSync(join(tmpdir(), 'vigil-outside-'));
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'kube-apiserver.yaml'), apiserverManifest([...flags, OUTSIDE]));
  startFlipper(built.hostRoot, outside);
  return built;
}

describe('a symlink flipper racing the host door', () => {
  it('thousands of reads: never the file outside the host root', async () => {
    const roots = raceSetup();
    await new Promise((r) => setTimeout(r, 100)); // let the flipper get going
    let inside = 0;
    let outsideReads = 0;
    for (let i = 0; i < 4000; i++) {
      const host = new HostAccess(roots);
      const r = host.readText(MANIFEST);
      host.close();
      if (r.ok && r.text.includes('OUTSIDE-THE-ROOT')) outsideReads++;
      if (r.ok && r.text.includes('INSIDE-THE-ROOT')) inside++;
    }
    expect(outsideReads, 'reads that followed a symlink out of the host root').toBe(0);
    expect(inside, 'the race must leave some reads of the real file').toBeGreaterThan(0);
  }, 60_000);

  it('scans during the race never judge the manifest outside the root', async () => {
    const roots = raceSetup();
    for (let i = 0; i < 150; i++) {
      const { report, snapshot } = await scanNode({ ...roots, only: ['1.2.16'] });
      expect(JSON.stringify(report)).not.toContain('OUTSIDE-THE-ROOT');
      expect(snapshot.components['kube-apiserver']?.argv ?? []).not.toContain(OUTSIDE);
    }
  }, 60_000);
});
