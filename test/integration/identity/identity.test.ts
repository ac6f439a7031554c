// One node identity on every ingest path, end to end: a real `vigil-collector serve` process verifying projected
// ServiceAccount tokens, real agents (`vigil-agent run`) and a real nats-server. Keys and tokens are made here
// (test/harness/service-accounts.ts: RS256 and ES256, a JWKS file, the exact claim layout of a 1.30+ API server).
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect as natsConnect, headers, type NatsConnection } from 'nats';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { envelopeToWire, loadVigilProto, type AgentMessage, type CollectorMessage, type Envelope } from '../../../proto/wire.js';
import type { NodeReport } from '../../../proto/report.js';
import { buildHost, type BuiltHost } from '../../fixtures/build.js';
import { kubeadmControlPlane } from '../../fixtures/hosts/kubeadm-control-plane.js';
import { describeWithDaemons, findBinary, tempDir } from '../../harness/integration.js';
import { createTestPki, type TestPki } from '../../harness/mtls.js';
import { NATS_SERVER, startNats, type NatsHarness } from '../../harness/nats.js';
import {
  AGENT_SUBJECT, ISSUER, projectedToken, signingKey, tamperedSignature, writeJwksFile, type SigningKey,
} from '../../harness/service-accounts.js';
import { startAgent, startCollector, waitFor, type AgentProcess, type CollectorUnderTest } from '../delivery/processes.js';

const MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
const READ = 'read-token-0123456789abcdef';
const REPORT = 'report-token-0123456789abcdef';
const IMPORT = 'import-token-0123456789abcdef';
const BOUND = 'bound-token-0123456789abcdef';
const CLUSTER = 'test';

/** A counter's value from the collector's /metrics (0 when absent). */
function counter(metrics: string, name: string, labels: Record<string, string>): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.split(' ').pop()) : 0;
}

const refusedCount = async (c: CollectorUnderTest, transport: string, reason: string): Promise<number> =>
  counter(await c.metricsText(), 'vigil_collector_refused_reports_total', { transport, reason });

function report(node: string, status: 'pass' | 'fail' = 'pass', scannedAt = new Date().toISOString()): NodeReport {
  const finding = { id: 'vigil.test:1', checkId: 'vigil.test', cis: null, status, severity: 'low' as const, title: 'test',
    component: 'node', resource: { kind: 'node' as const }, evidence: { source: 'test' }, remediation: 'none' };
  return { schemaVersion: 1, node: { name: node, roles: [] }, scannedAt, findings: [finding],
    summary: { pass: status === 'pass' ? 1 : 0, fail: status === 'fail' ? 1 : 0, warn: 0, skip: 0, error: 0 } };
}

async function post(c: CollectorUnderTest, body: unknown, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${c.httpUrl}/api/v1/reports`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Opens a gRPC stream with `token` as an agent would, sends `messages`, and says how the stream ended. */
async function grpcStream(c: CollectorUnderTest, pki: TestPki, token: string | undefined, messages: AgentMessage[]):
  Promise<{ code: grpc.status; details: string; answers: CollectorMessage[] }> {
  const { Client } = loadVigilProto();
  const client = new Client(c.grpcAddr, grpc.credentials.createSsl(readFileSync(pki.ca)));
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const answers: CollectorMessage[] = [];
  try {
    return await new Promise((resolve) => {
      const call = client.Report(metadata);
      call.on('data', (m: CollectorMessage) => {
        answers.push(m);
        if (answers.filter((a) => a.ack || a.reject).length >= messages.length) call.end();
      });
      call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details, answers }));
      call.on('end', () => resolve({ code: grpc.status.OK, details: '', answers }));
      for (const m of messages) call.write(m);
    });
  } finally {
    client.close();
  }
}

const wire = (e: Envelope): AgentMessage => envelopeToWire(e);

async function publish(nc: NatsConnection, subject: string, e: Envelope, token: string | undefined, msgID: string): Promise<void> {
  const h = headers();
  if (token) h.set('Authorization', `Bearer ${token}`);
  await nc.jetstream().publish(subject, loadVigilProto().encodeAgentMessage(wire(e)), { msgID, headers: h });
}

/** Replaces the token file the way the kubelet does: a new file renamed over the old one. */
function rotate(file: string, token: string): void {
  writeFileSync(`${file}.new`, token);
  renameSync(`${file}.new`, file);
}

describeWithDaemons('identity: ServiceAccount tokens bound to their node, on gRPC, NATS and REST',
  { 'nats-server': NATS_SERVER, openssl: findBinary('openssl') }, () => {
    let dir: { path: string; cleanup(): void };
    let pki: TestPki;
    let nats: NatsHarness;
    let collector: CollectorUnderTest;
    let host: BuiltHost;
    let rsa: SigningKey;
    let ec: SigningKey;
    let nc: NatsConnection;
    const agents: AgentProcess[] = [];

    const tokenFile = async (name: string, node: string, key = rsa): Promise<{ file: string; jti: string; token: string }> => {
      const { token, jti } = await projectedToken(key, { node });
      const file = join(dir.path, `${name}.token`);
      writeFileSync(file, token);
      return { file, jti, token };
    };

    beforeAll(async () => {
      dir = tempDir('identity');
      pki = createTestPki(dir.path);
      [rsa, ec] = await Promise.all([signingKey('RS256'), signingKey('ES256')]);
      const jwksFile = join(dir.path, 'jwks.json');
      writeJwksFile(jwksFile, [rsa, ec]);
      const tokens = join(dir.path, 'tokens.txt');
      writeFileSync(tokens, [`${READ} read reader`, `${REPORT} report ci-upload`, `${IMPORT} report importer nodes=*`,
        `${BOUND} report node-z-uploader nodes=node-z`].join('\n'));
      nats = await startNats();
      collector = await startCollector({
        dataDir: join(dir.path, 'collector'), pki, natsUrl: nats.url, serviceAccounts: { issuer: ISSUER, jwksFile },
        tokens: { file: tokens, read: READ },
      });
      host = buildHost(kubeadmControlPlane(), join(dir.path, 'host'));
      nc = await natsConnect({ servers: nats.url });
      // The collector creates the stream when it starts consuming.
      await waitFor('the stream', async () => ((await (await nc.jetstreamManager()).streams.info('VIGIL_FINDINGS')) ? true : undefined));
    }, 60_000);

    afterAll(async () => {
      for (const a of agents) await a.stop();
      await nc?.close();
      await collector?.cleanup();
      await nats?.cleanup();
      host?.cleanup();
      dir?.cleanup();
    });

    it('refuses a token for node A reporting as node B on gRPC, NATS and REST: logged with subject, pod and node, counted', async () => {
      const a = await tokenFile('node-a', 'node-a');
      // gRPC: an agent holding node-a's token that says it is node-b.
      const impostor = await startAgent({
        hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-impostor'), node: 'node-b',
        transport: 'grpc', collector: collector.grpcAddr, tls: { ca: pki.ca }, tokenFile: a.file,
      });
      agents.push(impostor);
      await waitFor('the gRPC refusal', async () => (await refusedCount(collector, 'grpc', 'node-mismatch')) > 0 || undefined, 60_000);
      await impostor.stop();
      // NATS: node-a's token on node-b's subject, and on its own subject claiming node-b.
      await publish(nc, `vigil.findings.${CLUSTER}.node-b`, { node: 'node-b', cluster: CLUSTER, epoch: 'e1', seq: 1, payload: { kind: 'full', report: report('node-b') } }, a.token, 'ab-1');
      await publish(nc, `vigil.findings.${CLUSTER}.node-a`, { node: 'node-b', cluster: CLUSTER, epoch: 'e1', seq: 2, payload: { kind: 'full', report: report('node-b') } }, a.token, 'ab-2');
      await waitFor('the NATS refusals', async () => (await refusedCount(collector, 'nats', 'node-mismatch')) >= 2 || undefined);
      // REST: node-a's token posting node-b's report.
      const rest = await post(collector, report('node-b'), a.token);
      expect(rest.status).toBe(403);
      expect(rest.body.message).toMatch(/may only report for node-a/);
      expect(await refusedCount(collector, 'rest', 'node-mismatch')).toBe(1);

      const log = collector.output().split('\n').filter((l) => /refused a report/.test(l));
      expect(log.length).toBeGreaterThanOrEqual(4);
      for (const line of log.slice(0, 4)) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        expect(entry).toMatchObject({ identity: 'service-account', subject: AGENT_SUBJECT, node: 'node-a', pod: 'vigil-agent-node-a' });
      }
      expect(await collector.node('node-b')).toBeUndefined();

      // The same token for its own node is taken on every path, and the node shows who reports for it.
      const honest = await startAgent({
        hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, 'outbox-node-a'), node: 'node-a',
        transport: 'grpc', collector: collector.grpcAddr, tls: { ca: pki.ca }, tokenFile: a.file,
      });
      agents.push(honest);
      await waitFor('node-a stored', async () => (await collector.findings('node-a')).length > 0 || undefined, 60_000);
      await honest.stop();
      expect((await collector.node('node-a'))!.identity).toMatchObject({ kind: 'service-account', subject: AGENT_SUBJECT, boundSince: expect.any(String) });
      expect(impostor.output()).not.toContain(a.token);
      expect(collector.output()).not.toContain(a.token);
    }, 120_000);

    it('refuses expired, wrong-audience, wrong-issuer, unknown-key, bad-signature and node-less tokens on every path', async () => {
      const stranger = await signingKey('RS256');
      const tokens: Record<string, string> = {
        'token-expired': (await projectedToken(rsa, { node: 'node-c', issuedAt: -7200, expiresIn: 3600 })).token,
        'token-audience': (await projectedToken(rsa, { node: 'node-c', audience: ['https://kubernetes.default.svc.cluster.local'] })).token,
        'token-issuer': (await projectedToken(rsa, { node: 'node-c', issuer: 'https://evil.example.com' })).token,
        'token-unknown-key': (await projectedToken(stranger, { node: 'node-c' })).token,
        'token-signature': tamperedSignature((await projectedToken(ec, { node: 'node-c' })).token),
        'token-no-node': (await projectedToken(rsa, { node: null })).token,
        'token-subject': (await projectedToken(rsa, { node: 'node-c', subject: 'system:serviceaccount:default:default' })).token,
      };
      let seq = 0;
      for (const [reason, token] of Object.entries(tokens)) {
        const full: Envelope = { node: 'node-c', cluster: CLUSTER, epoch: 'e', seq: ++seq, payload: { kind: 'full', report: report('node-c') } };
        const rest = await post(collector, report('node-c'), token);
        expect(rest.status, reason).toBe(401);
        const stream = await grpcStream(collector, pki, token, [wire(full)]);
        expect(stream.code, reason).toBe(grpc.status.UNAUTHENTICATED);
        await publish(nc, `vigil.findings.${CLUSTER}.node-c`, full, token, `bad-${reason}`);
        await waitFor(`${reason} counted on every path`, async () => {
          const m = await collector.metricsText();
          const counts = ['rest', 'grpc', 'nats'].map((t) => counter(m, 'vigil_collector_refused_reports_total', { transport: t, reason }));
          return counts.every((n) => n >= 1) || undefined;
        });
      }
      // No token at all, on the streaming paths.
      expect((await grpcStream(collector, pki, undefined, [])).code).toBe(grpc.status.UNAUTHENTICATED);
      await publish(nc, `vigil.findings.${CLUSTER}.node-c`, { node: 'node-c', cluster: CLUSTER, seq: 99, payload: { kind: 'full', report: report('node-c') } }, undefined, 'no-token');
      await waitFor('the token-less NATS message refused', async () => (await refusedCount(collector, 'nats', 'no-identity')) > 0 || undefined);
      expect(await collector.node('node-c')).toBeUndefined();

      // The control: a good ES256 token for node-c is taken.
      const good = (await projectedToken(ec, { node: 'node-c' })).token;
      expect((await post(collector, report('node-c'), good)).status).toBe(200);
    }, 90_000);

    it('picks up the rotated token file without a restart, on gRPC and NATS', async () => {
      const seen = (jti: string, transport: string): boolean => collector.output().split('\n')
        .some((l) => l.includes(`JTI=${jti}`) && l.includes(`"transport":"${transport}"`));
      const rotations = (['grpc', 'nats'] as const).map(async (transport) => {
        const node = `node-rotate-${transport}`;
        const first = await tokenFile(node, node);
        const agent = await startAgent({
          hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir: join(dir.path, `outbox-${node}`), node, transport,
          collector: transport === 'grpc' ? collector.grpcAddr : undefined, natsUrl: transport === 'nats' ? nats.url : undefined,
          tls: { ca: pki.ca }, tokenFile: first.file, extra: ['--rescan-interval', '1s', '--full-interval', '1s'],
        });
        agents.push(agent);
        // gRPC logs each stream it opens with its token's id, NATS each full snapshot it stores.
        await waitFor(`the first token on ${transport}`, () => seen(first.jti, transport) || undefined, 60_000);
        const second = await projectedToken(ec, { node });
        rotate(first.file, second.token);
        await waitFor(`the rotated token on ${transport}`, () => seen(second.jti, transport) || undefined, 40_000);
        expect(agent.output()).toMatch(/token file changed/);
        if (transport === 'grpc') expect(agent.output()).toMatch(/token rotated; reopening the gRPC stream/);
        return { agent, node };
      });
      const running = await Promise.all(rotations);
      // The same processes, and what changes now is stored.
      chmodSync(join(host.hostRoot, MANIFEST), 0o644);
      try {
        for (const { node } of running) {
          await waitFor(`the change after rotation (${node})`, async () =>
            (await collector.findings(node)).some((f) => f.checkId === 'cis-1.1.1' && f.status === 'fail') || undefined, 30_000);
        }
      } finally {
        chmodSync(join(host.hostRoot, MANIFEST), 0o600);
        for (const { agent } of running) await agent.stop();
      }
    }, 150_000);

    it("does not let a forged huge seq stop the genuine agent's later changes from being stored", async () => {
      const f = await tokenFile('node-f', 'node-f');
      const outboxDir = join(dir.path, 'outbox-forged');
      const agent = await startAgent({
        hostRoot: host.hostRoot, procRoot: host.procRoot, outboxDir, node: 'node-f', transport: 'grpc',
        collector: collector.grpcAddr, tls: { ca: pki.ca }, tokenFile: f.file, extra: ['--rescan-interval', '1s', '--full-interval', '2s'],
      });
      agents.push(agent);
      await waitFor('the genuine report', async () => (await collector.findings('node-f')).length > 0 || undefined, 60_000);
      const { epoch } = JSON.parse(readFileSync(join(outboxDir, 'state.json'), 'utf8')) as { epoch: string };
      const huge = Number.MAX_SAFE_INTEGER;
      const forged = (e: string, kind: 'full' | 'delta', status: 'pass' | 'fail'): Envelope => ({
        node: 'node-f', cluster: CLUSTER, epoch: e, seq: huge,
        payload: kind === 'full' ? { kind, report: report('node-f', status) }
          : { kind, delta: { scannedAt: new Date().toISOString(), added: [report('node-f', status).findings[0]], changed: [], resolved: [] } },
      });
      // With the node's own token (root on the node could read it), in the agent's epoch: refused, never stored.
      const refused = await grpcStream(collector, pki, f.token, [wire(forged(epoch, 'delta', 'fail'))]);
      expect(refused.answers.find((a) => a.reject)?.reject?.reason).toMatch(/more than \d+ past the stored/);
      expect(await refusedCount(collector, 'grpc', 'seq-window')).toBeGreaterThanOrEqual(1);
      // Over NATS, as a full snapshot in an epoch of its own: it is taken (the token speaks for node-f) ...
      await publish(nc, `vigil.findings.${CLUSTER}.node-f`, forged('forged-epoch', 'full', 'fail'), f.token, 'forged-full');
      await waitFor('the forged snapshot', async () => (await collector.lastSeq('node-f')) === huge || undefined);

      // ... and still the genuine agent's next change is stored: its next full snapshot is newer.
      chmodSync(join(host.hostRoot, MANIFEST), 0o644);
      try {
        await waitFor('the genuine change', async () =>
          (await collector.findings('node-f')).some((x) => x.checkId === 'cis-1.1.1' && x.status === 'fail' && !x.resolved) || undefined, 40_000);
        const stored = await collector.lastSeq('node-f');
        expect(stored).toBeLessThan(huge);
        expect((await collector.findings('node-f')).find((x) => x.id === 'vigil.test:1')?.resolved ?? true).toBe(true);
      } finally {
        chmodSync(join(host.hostRoot, MANIFEST), 0o600);
        await agent.stop();
      }
    }, 120_000);

    it("holds one node's out-of-order NATS messages for the missing one without delaying any other node", async () => {
      const g = (await projectedToken(rsa, { node: 'node-g' })).token;
      const h = (await projectedToken(rsa, { node: 'node-h' })).token;
      const t = Date.now();
      const delta = (seq: number, status: 'pass' | 'fail', ms: number): Envelope => ({ node: 'node-g', cluster: CLUSTER, epoch: 'g', seq,
        payload: { kind: 'delta', delta: { scannedAt: new Date(ms).toISOString(), added: [], changed: [report('node-g', status).findings[0]], resolved: [] } } });
      await publish(nc, `vigil.findings.${CLUSTER}.node-g`, { node: 'node-g', cluster: CLUSTER, epoch: 'g', seq: 1,
        payload: { kind: 'full', report: report('node-g', 'pass', new Date(t).toISOString()) } }, g, 'g-1');
      await waitFor('node-g stored', async () => (await collector.lastSeq('node-g')) === 1 || undefined);
      // seq 3 before seq 2: it waits (redelivered later) ...
      await publish(nc, `vigil.findings.${CLUSTER}.node-g`, delta(3, 'pass', t + 2000), g, 'g-3');
      // ... and meanwhile another node's report goes straight through.
      const sent = Date.now();
      await publish(nc, `vigil.findings.${CLUSTER}.node-h`, { node: 'node-h', cluster: CLUSTER, epoch: 'h', seq: 1,
        payload: { kind: 'full', report: report('node-h') } }, h, 'h-1');
      await waitFor('node-h stored', async () => (await collector.lastSeq('node-h')) === 1 || undefined, 5_000);
      expect(Date.now() - sent).toBeLessThan(3_000);
      expect(await collector.lastSeq('node-g')).toBe(1);
      await publish(nc, `vigil.findings.${CLUSTER}.node-g`, delta(2, 'fail', t + 1000), g, 'g-2');
      await waitFor('node-g in order', async () => (await collector.lastSeq('node-g')) === 3 || undefined, 15_000);
      // Applied in order: fail (seq 2) then pass again (seq 3).
      expect(await collector.events('node-g', 'vigil.test:1')).toEqual(['changed', 'changed']);
    }, 60_000);

    it('does not let an old unbound report token overwrite a node that reports with its own identity', async () => {
      // node-a reported with its ServiceAccount token (first test): it is bound.
      const before = await refusedCount(collector, 'rest', 'bound-node');
      const unbound = await post(collector, report('node-a', 'fail'), REPORT);
      expect(unbound.status).toBe(403);
      expect(unbound.body.message).toMatch(/node-a reports with its own identity/);
      expect(await refusedCount(collector, 'rest', 'bound-node')).toBe(before + 1);
      expect(collector.output()).toMatch(/"identity":"token".*"token":"ci-upload".*refused a report/);
      // A node nobody bound takes it; a token bound to other nodes may not write node-a either.
      expect((await post(collector, report('node-free'), REPORT)).status).toBe(200);
      expect((await post(collector, report('node-a'), BOUND)).status).toBe(403);
      // A bound token binds its node: afterwards the unbound token may not write it.
      expect((await post(collector, report('node-z'), BOUND)).status).toBe(200);
      expect((await collector.node('node-z'))!.identity).toMatchObject({ kind: 'token', subject: 'node-z-uploader' });
      expect((await post(collector, report('node-z'), REPORT)).status).toBe(403);
      // An explicit import token (nodes=*) may write any node.
      expect((await post(collector, report('node-a'), IMPORT)).status).toBe(200);
      expect((await collector.node('node-a'))!.identity).toMatchObject({ kind: 'token', subject: 'importer', boundSince: expect.any(String) });
      // Every accepted report is logged with who wrote it.
      expect(collector.output()).toMatch(/"identity":"token".*"subject":"importer".*report stored/);
    }, 60_000);
  });
