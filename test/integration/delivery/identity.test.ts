// The collector's gRPC endpoint under abuse: an agent may only speak for the node its certificate names (its
// one DNS name, or its CN when it has none; a certificate naming several nodes or not made for client
// authentication names none), and garbage, TLS without a client certificate and oversized messages do not take
// the collector down.
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadVigilProto, type AgentMessage, type CollectorMessage } from '../../../proto/wire.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { describeWithDaemons, findBinary, tempDir } from '../../harness/integration.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { NATS_SERVER, startNats, type NatsHarness } from '../../harness/nats.js';
import { connect as natsConnect } from 'nats';
import { envelopeToWire } from '../../../proto/wire.js';
import { startAgent, startCollector, waitFor, type AgentProcess, type CollectorUnderTest } from './processes.js';

const MAX_MESSAGE = 1024 * 1024;

function refusals(metrics: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith('vigil_collector_refused_reports_total{') && l.includes('reason="node-mismatch"') && l.includes('transport="grpc"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describeWithDaemons('delivery: identity and hostile input at the gRPC endpoint', { openssl: findBinary('openssl') }, () => {
  let dir: { path: string; cleanup(): void };
  let pki: TestPki;
  let collector: CollectorUnderTest;
  let host: BuiltHost;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    dir = tempDir('identity');
    pki = createTestPki(dir.path);
    collector = await startCollector({ dataDir: join(dir.path, 'collector'), pki, grpcMaxMessageBytes: MAX_MESSAGE });
    host = buildHost(kubeadmControlPlane(), join(dir.path, 'host'));
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await collector?.cleanup();
    dir?.cleanup();
  });

  it('refuses an agent with a certificate for node A reporting as node B, logs and counts it', async () => {
    const before = refusals(await collector.metricsText());
    const impostor = await startAgent({
      hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-impostor'), node: 'node-b',
      transport: 'grpc', collector: collector.grpcAddr, tls: { ca: pki.ca, ...pki.client('node-a') },
    });
    agents.push(impostor);
    await waitFor('the refusal to be counted', async () => refusals(await collector.metricsText()) > before);
    expect(collector.output()).toMatch(/refused a report for another node/);
    expect(collector.output()).toContain('node-b');
    expect(await collector.findings('node-b')).toEqual([]);
    // The agent keeps what it could not deliver.
    expect(await impostor.metric('vigil_agent_outbox_depth')).toBeGreaterThan(0);
    await impostor.stop();
  }, 90_000);

  it('refuses a certificate naming several nodes, or lacking the clientAuth usage; takes the CN only without DNS names', async () => {
    const { Client } = loadVigilProto();
    const open = async (cert: { cert: string; key: string }, node: string): Promise<{ code: grpc.status; details: string }> => {
      const client = new Client(collector.grpcAddr, grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(cert.key), readFileSync(cert.cert)));
      try {
        return await new Promise((resolve) => {
          const call = client.Report();
          call.on('data', () => call.end());
          call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
          call.on('end', () => resolve({ code: grpc.status.OK, details: '' }));
          call.write({ node, cluster: 'c', epoch: 'e', seq: 1, heartbeat: { agentVersion: 't', node, lastScanDurationMs: 0,
            outboxDepth: 0, outboxBytes: 0, foldedDeltas: 0 } });
          call.write({ node, cluster: 'c', epoch: 'e', seq: 1, report: { schemaVersion: 1, node: { name: node, roles: [], os: '', kernel: '',
            architecture: '', cpus: 0, memoryBytes: 0, agentVersion: '', componentsJson: '' }, scannedAt: new Date().toISOString(), findings: [],
          summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 } } });
        });
      } finally {
        client.close();
      }
    };
    const several = pki.custom('several', '/CN=node-x', 'DNS:node-x,DNS:node-y', 'clientAuth');
    expect(await open(several, 'node-y')).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/several nodes/) });
    const serverOnly = pki.custom('server-only', '/CN=node-s', 'DNS:node-s', 'serverAuth');
    // Node's TLS already refuses it in the handshake (unsupported purpose); the collector's own check stands behind.
    expect([grpc.status.UNAVAILABLE, grpc.status.UNAUTHENTICATED]).toContain((await open(serverOnly, 'node-s')).code);
    expect(await collector.findings('node-s')).toEqual([]);
    // The DNS name wins over the CN: this certificate speaks for node-d, not node-cn.
    const dnsAndCn = pki.custom('dns-and-cn', '/CN=node-cn', 'DNS:node-d', 'clientAuth');
    expect(await open(dnsAndCn, 'node-cn')).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect(await open(dnsAndCn, 'node-d')).toMatchObject({ code: grpc.status.OK });
    // Without DNS names the CN is the node.
    const cnOnly = pki.custom('cn-only', '/O=system:nodes/CN=node-cn2', '', 'clientAuth');
    expect(await open(cnOnly, 'node-cn2')).toMatchObject({ code: grpc.status.OK });
    expect(await collector.findings('node-y')).toEqual([]);
    expect(collector.output()).toMatch(/client certificate names several nodes/);
  }, 60_000);

  it('survives garbage, TLS without a client certificate and oversized messages', async () => {
    const [hostName, port] = collector.grpcAddr.split(':');
    // Plain garbage on the port.
    await new Promise<void>((resolve) => {
      const s = netConnect({ host: hostName, port: Number(port) }, () => {
        s.write(Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 7919) % 256)));
        s.end();
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    // TLS with no client certificate, then HTTP/2-looking junk.
    await new Promise<void>((resolve) => {
      const s = tlsConnect({ host: hostName, port: Number(port), ca: readFileSync(pki.ca), servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
        s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + 'x'.repeat(10_000));
        s.end();
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    // A real client with a valid certificate sending a message over the collector's size limit.
    const { Client } = loadVigilProto();
    const tls = pki.clientTls('node-big');
    const client = new Client(collector.grpcAddr, grpc.credentials.createSsl(tls.ca, tls.key, tls.cert)) as unknown as
      grpc.Client & { Report(): grpc.ClientDuplexStream<AgentMessage, CollectorMessage> };
    const status = await new Promise<grpc.status>((resolve) => {
      const call = client.Report();
      call.on('error', (err: grpc.ServiceError) => resolve(err.code));
      call.on('data', () => undefined);
      call.write({ node: 'node-big', cluster: 'c', epoch: '', seq: 1, delta: { scannedAt: new Date().toISOString(),
        added: [], changed: [], resolved: Array.from({ length: 2_000 }, (_, i) => `x${i}:${'y'.repeat(1_000)}`) } });
    });
    client.close();
    expect(status).toBe(grpc.status.RESOURCE_EXHAUSTED);

    // Still serving: an honest agent's report is stored.
    const honest = await startAgent({
      hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-honest'), node: 'node-a',
      transport: 'grpc', collector: collector.grpcAddr, tls: { ca: pki.ca, ...pki.client('node-a') },
    });
    agents.push(honest);
    await waitFor('the honest report', async () => (await collector.findings('node-a')).length > 0 || undefined, 30_000);
    expect(await collector.findings('node-big')).toEqual([]);
  }, 90_000);
});

describeWithDaemons('delivery: NATS messages may only speak for the node in their subject', { 'nats-server': NATS_SERVER }, () => {
  let dir: { path: string; cleanup(): void };
  let nats: NatsHarness;
  let collector: CollectorUnderTest;

  beforeAll(async () => {
    dir = tempDir('nats-identity');
    nats = await startNats();
    collector = await startCollector({ dataDir: join(dir.path, 'collector'), pki: createTestPki(dir.path), natsUrl: nats.url });
  });
  afterAll(async () => {
    await collector?.cleanup();
    await nats?.cleanup();
    dir?.cleanup();
  });

  it('refuses a message published on node A\'s subject that claims node B, and drops garbage', async () => {
    const nc = await natsConnect({ servers: nats.url });
    try {
      const js = nc.jetstream();
      const count = (m: string): number => {
        const line = m.split('\n').find((l) => l.startsWith('vigil_collector_refused_reports_total{') && l.includes('transport="nats"'));
        return line ? Number(line.split(' ').pop()) : 0;
      };
      const report = { schemaVersion: 1 as const, node: { name: 'node-b', roles: [] }, scannedAt: new Date().toISOString(),
        findings: [], summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 } };
      // The collector creates the stream when it starts consuming.
      await waitFor('the stream', async () => (await (await nc.jetstreamManager()).streams.info('VIGIL_FINDINGS')) ? true : undefined);
      await js.publish('vigil.findings.test.node-a', Buffer.from('definitely not protobuf \xff\xfe'), { msgID: 'garbage-1' });
      await js.publish('vigil.findings.test.node-a', loadVigilProto().encodeAgentMessage(envelopeToWire(
        { node: 'node-b', cluster: 'test', seq: 1, payload: { kind: 'full', report } })), { msgID: 'forged-1' });
      await waitFor('the refusal to be counted', async () => count(await collector.metricsText()) > 0 || undefined);
      expect(collector.output()).toMatch(/refused a report for another node/);
      expect(collector.output()).toMatch(/dropped an undecodable NATS message/);
      expect(await collector.metricsText()).toMatch(/vigil_collector_invalid_messages_total\{transport="nats"\} [1-9]/);
      expect(await collector.findings('node-b')).toEqual([]);
      // An honest message on the right subject still goes through.
      const finding = { id: 'vigil.test:1', checkId: 'vigil.test', cis: null, status: 'pass' as const, severity: 'low' as const,
        title: 'test', component: 'node', resource: { kind: 'node' as const }, evidence: { source: 'test' }, remediation: 'none' };
      const honest = { ...report, node: { name: 'node-a', roles: [] }, findings: [finding], summary: { ...report.summary, pass: 1 } };
      await js.publish('vigil.findings.test.node-a', loadVigilProto().encodeAgentMessage(envelopeToWire(
        { node: 'node-a', cluster: 'test', seq: 1, payload: { kind: 'full', report: honest } })), { msgID: 'honest-1' });
      await waitFor('the honest report', async () => ((await collector.findings('node-a')).length > 0 ? true : undefined));
    } finally {
      await nc.close();
    }
  }, 60_000);
});
