// The agent's outbox on a real tmpfs that fills up while the collector is down (issue 11): the agent never exits,
// counts the failed writes, keeps what it could not write in memory and delivers it when the collector is back,
// with a finding that says the outbox cannot write; once the disk has room again the finding resolves.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { describeWithDaemons, findBinary, tempDir } from '../../harness/integration.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { startAgent, startCollector, waitFor, type AgentProcess, type CollectorUnderTest } from '../delivery/processes.js';

const NODE = 'cp-full-disk';
const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

describeWithDaemons('the outbox on a full disk', { mount: findBinary('mount'), dd: findBinary('dd') }, () => {
  let dir: { path: string; cleanup(): void };
  let mnt: string;
  let pki: TestPki;
  let collector: CollectorUnderTest;
  let host: BuiltHost;
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    dir = tempDir('full-disk');
    mnt = join(dir.path, 'mnt');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mnt]);
    pki = createTestPki(dir.path);
    host = buildHost(kubeadmControlPlane(), join(dir.path, 'host'));
    collector = await startCollector({ dataDir: join(dir.path, 'collector'), pki });
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    await collector?.cleanup();
    try { execFileSync('umount', [mnt]); } catch { /* not mounted */ }
    dir?.cleanup();
  });

  it('never exits, delivers from memory with a finding, and heals when space returns', async () => {
    agent = await startAgent({
      hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(mnt, 'outbox'), node: NODE, transport: 'grpc',
      collector: collector.grpcAddr, tls: { ca: pki.ca, ...pki.client(NODE) },
    });
    const cis = await waitFor('the first report', async () => (await collector.findings(NODE)).find((f) => f.checkId === 'cis-1.1.1'));
    expect(cis.status).toBe('pass');

    await collector.kill();
    const filler = join(mnt, 'filler');
    try { execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' }); } catch { /* full */ }
    chmodSync(join(host.hostRoot, MANIFEST), 0o644);
    await waitFor('a failed outbox write', async () => ((await agent!.metric('vigil_agent_outbox_write_errors_total{code="ENOSPC"}')) ?? 0) > 0)
      .catch((err: Error) => { throw new Error(`${err.message}\n${execFileSync('df', [mnt]).toString()}\n${agent!.output().slice(-3000)}`); });
    expect(await agent.metric('vigil_agent_outbox_degraded')).toBe(1);

    await collector.start();
    const failed = await waitFor('the outbox finding at the collector', async () => (await collector.findings(NODE))
      .find((f) => f.checkId === 'vigil.outbox.write-failed' && !f.resolved), 30_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${agent!.output().slice(-3000)}`); });
    expect(failed.status).toBe('warn');
    expect(JSON.stringify(failed.evidence)).toContain('ENOSPC');
    await waitFor('the change delivered from memory', async () => (await collector.findings(NODE))
      .find((f) => f.id === cis.id && f.status === 'fail'));

    rmSync(filler, { force: true });
    chmodSync(join(host.hostRoot, MANIFEST), 0o600);
    await waitFor('the outbox finding resolved', async () => (await collector.findings(NODE))
      .find((f) => f.id === failed.id && f.resolved), 30_000);
    expect(await agent.metric('vigil_agent_outbox_degraded')).toBe(0);
    await waitFor('the outbox drained', async () => (await agent!.metric('vigil_agent_outbox_depth')) === 0);
  }, 120_000);
}, { needsRoot: true });
