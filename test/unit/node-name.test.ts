// The node name the agent reports is the one the kubelet registers (lowercased hostname or --hostname-override), the
// only kind of name the collector accepts; an explicit --node-name that no node could have stops the command line.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeletConfigFact } from '../../agent/facts/snapshot.js';
import { HostAccess } from '../../agent/gather/host.js';
import { gatherNodeInfo } from '../../agent/gather/node-info.js';
import { isNodeName } from '../../proto/node-name.js';
import { buildHost, type BuiltHost } from '../fixtures/build.js';
import { locateBuiltCli } from '../harness/built-cli.js';

const kubeletWithOverride = (value: string): KubeletConfigFact => ({
  configLoaded: false, dropIns: [], errors: [],
  settings: { hostnameOverride: { key: 'hostnameOverride', flag: 'hostname-override', value, source: 'flag' } },
});

describe('the node name the agent reports', () => {
  let host: BuiltHost;
  let access: HostAccess;
  beforeAll(() => {
    host = buildHost({ files: { '/etc/hostname': '  Worker-7.Example.COM  \nignored\n' } });
    access = new HostAccess({ hostRoot: host.hostRoot, procRoot: host.procRoot });
  });
  afterAll(() => host?.cleanup());

  it('is the hostname lowercased and trimmed, as the kubelet registers it', async () => {
    const node = await gatherNodeInfo(access, {}, undefined);
    expect(node.name).toBe('worker-7.example.com');
    expect(isNodeName(node.name)).toBe(true);
  });

  it('is the kubelet\'s --hostname-override lowercased when it has one, and an explicit name as given', async () => {
    expect((await gatherNodeInfo(access, {}, kubeletWithOverride('  CP-1 '))).name).toBe('cp-1');
    expect((await gatherNodeInfo(access, {}, kubeletWithOverride(''))).name).toBe('worker-7.example.com');
    expect((await gatherNodeInfo(access, {}, kubeletWithOverride('CP-1'), 'given-1')).name).toBe('given-1');
  });
});

describe('--node-name on the command line', () => {
  let cli: { cli: string; cleanup(): void };
  beforeAll(() => { cli = locateBuiltCli('agent/cli.js'); }, 300_000);
  afterAll(() => cli?.cleanup());

  const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
    execFile(process.execPath, [cli.cli, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }));
  });

  it.each([['scan'], ['run', '--collector', '127.0.0.1:1', '--insecure']])('%s refuses one no node could have: one line, exit 2, before any scan', async (...command) => {
    for (const bad of ['Worker-1', 'node_1', '../../etc/passwd', `${'a'.repeat(254)}`]) {
      const r = await run([...command, '--node-name', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^error: option '--node-name <name>' argument '.*' is invalid\. not a Kubernetes node name: it must be a DNS-1123 subdomain/),
      ]);
    }
  });
});
