// A real listener opened by the test on 0.0.0.0 (nothing outside this machine talks to it) while a real agent runs
// against the real /proc: the fast path sees it within its probe period (500 ms), the finding reaches a real
// collector, and it resolves when the listener closes. The periodic rescan is 10 minutes away, so only the fast path
// can have seen it.
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { tempDir } from '../../harness/integration.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { startAgent, startCollector, waitFor, type AgentProcess, type CollectorUnderTest } from '../delivery/processes.js';

const NODE = 'listener-node';

describe('a new listener reaches the collector through the fast path', () => {
  let dir: { path: string; cleanup(): void };
  let pki: TestPki;
  let collector: CollectorUnderTest;
  let host: BuiltHost;
  let agent: AgentProcess;

  beforeAll(async () => {
    dir = tempDir('listener');
    pki = createTestPki(dir.path);
    collector = await startCollector({ dataDir: join(dir.path, 'collector'), pki });
    // No host files to judge: the sockets come from the real /proc.
    host = buildHost({}, join(dir.path, 'host'));
    agent = await startAgent({
      hostRoot: host.hostRoot, procRoot: '/proc', outboxDir: join(dir.path, 'outbox'), node: NODE, transport: 'grpc',
      collector: collector.grpcAddr, tls: { ca: pki.ca, ...pki.client(NODE) }, extra: ['--rescan-interval', '10m'],
    });
    await waitFor('the first report', () => collector.lastReport(NODE), 60_000);
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    await collector?.cleanup();
    dir?.cleanup();
  });

  it('appears as a finding within the fast path\'s period and resolves when closed', async () => {
    const server: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    const port = (server.address() as { port: number }).port;
    const started = performance.now();
    const listening = (await waitFor(`the 0.0.0.0:${port} listener at the collector`, async () => (await collector.findings(NODE))
      .find((f) => f.checkId === 'port-listener' && !f.resolved && JSON.stringify(f.evidence).includes(`0.0.0.0:${port}`)), 10_000));
    const latency = performance.now() - started;
    expect(listening.status).toBe('warn');
    expect(latency).toBeLessThan(3_000);
    expect((await agent.metric('vigil_agent_fast_path_changes_total{change="sockets"}')) ?? 0).toBeGreaterThan(0);

    await new Promise<void>((r) => server.close(() => r()));
    await waitFor('the finding resolved', async () => (await collector.findings(NODE))
      .find((f) => f.id === listening.id && f.resolved), 10_000);
    // Nothing but the fast path ran: no full rescan since the start.
    expect(agent.output()).not.toMatch(/"trigger":"interval"/);
  }, 60_000);
});
