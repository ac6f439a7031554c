// Several collector replicas over one PostgreSQL and a 3-node NATS JetStream cluster, proven under kill: simulated
// agents (the agent's own outbox and senders) stream numbered changes over NATS and over gRPC through a TCP forwarder
// (standing in for the Kubernetes Service), while replicas are killed with SIGKILL (the leader among them), drained
// with SIGTERM and started again, one at a time. Afterwards every change is stored exactly once, every replica gives
// the same summary and correlations, correlation kept running, and the terms show one leader at a time.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GrpcSender } from '../../../agent/ship/grpc-client.js';
import { NatsPublisher } from '../../../agent/ship/nats-publisher.js';
import { Outbox } from '../../../agent/ship/outbox.js';
import type { Finding, NodeReport } from '../../../proto/report.js';
import { locateBuiltCli } from '../../harness/built-cli.js';
import { describeWithDaemons, tempDir } from '../../harness/integration.js';
import { NATS_SERVER } from '../../harness/nats.js';
import { postgresBinaries, startPostgres, type PostgresServer } from '../../harness/postgres.js';
import { finding, report } from '../../unit/collector/helpers.js';
import { forwarder, replica, startNatsCluster, type Forwarder, type NatsCluster, type Replica } from './harness.js';

const CHANGES = 50;
const CHANGE_EVERY_MS = 250;
const AGENTS = { nats: ['nats-a', 'nats-b', 'nats-c'], grpc: ['grpc-a', 'grpc-b', 'grpc-c'] };
/** The node whose kubelet setting differs from the other workers': a drift every replica must report. */
const DRIFTER = 'grpc-b';

interface SimAgent {
  node: string;
  transport: 'nats' | 'grpc';
  outbox: Outbox;
  sender: { start(): void; stop(): Promise<void> };
}

const silent = pino({ level: 'silent' });

async function json(url: string): Promise<any> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeWithDaemons('collector replicas under kill (real PostgreSQL, 3-node NATS JetStream cluster, built CLI)',
  { ...postgresBinaries, 'nats-server': NATS_SERVER }, () => {
    let server: PostgresServer | undefined;
    let nats: NatsCluster | undefined;
    let fwd: Forwarder | undefined;
    let db: pg.Client | undefined;
    let cli: ReturnType<typeof locateBuiltCli> | undefined;
    const replicas: Replica[] = [];
    const agents: SimAgent[] = [];
    const dir = tempDir('scale');

    beforeAll(async () => {
      cli = locateBuiltCli('collector/cli.js');
      [server, nats] = await Promise.all([startPostgres(), startNatsCluster()]);
      const databaseUrl = await server.createDatabase('scale');
      db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      for (let i = 0; i < 3; i++) replicas.push(await replica({ cli: cli.cli, databaseUrl, natsUrl: nats.url, index: i }));
      // One at a time: the first creates the stream and the durable consumer, the others find them.
      for (const r of replicas) await r.start();
      fwd = await forwarder(() => replicas.filter((r) => r.running), AGENTS.grpc.length);
    }, 90_000);

    afterAll(async () => {
      await Promise.all(agents.map((a) => a.sender.stop().catch(() => undefined)));
      await fwd?.close();
      await Promise.all(replicas.map((r) => r.kill()));
      await db?.end().catch(() => undefined);
      await nats?.stop();
      await server?.stop();
      cli?.cleanup();
      dir.cleanup();
    }, 60_000);

    const leaders = async (): Promise<Replica[]> => {
      const answers = await Promise.all(replicas.filter((r) => r.running).map(async (r) => {
        try { return (await json(`${r.httpUrl}/api/v1/replica`)).leader === true ? r : undefined; } catch { return undefined; }
      }));
      return answers.filter((r): r is Replica => r !== undefined);
    };

    function baseReport(node: string, changes: number): NodeReport {
      const drifted = node === DRIFTER;
      const findings: Finding[] = [
        finding({ checkId: 'cis-4.2.1', cis: '4.2.1', severity: 'high', value: drifted, status: drifted ? 'fail' : 'pass' }),
        finding({ checkId: 'cis-4.2.6', cis: '4.2.6', severity: 'low', value: 1, status: 'pass' }),
      ];
      for (let k = 1; k <= changes; k++) findings.push(change(k));
      return report(node, findings, { scannedAt: new Date() });
    }
    const change = (k: number): Finding => finding({ checkId: `change-${k}`, severity: 'low', status: 'fail', value: k });

    function startAgent(node: string, transport: 'nats' | 'grpc'): SimAgent {
      const outbox = Outbox.open({ dir: join(dir.path, node), node, cluster: 'test', transports: [transport] });
      const common = { outbox, node, cluster: 'test', log: silent };
      const sender = transport === 'grpc'
        ? new GrpcSender({ ...common, target: `127.0.0.1:${fwd!.ports[AGENTS.grpc.indexOf(node)]}`, insecure: true, ackTimeoutMs: 5_000 })
        : new NatsPublisher({ ...common, nats: { url: nats!.url, name: `agent-${node}` } });
      outbox.append({ kind: 'full', report: baseReport(node, 0) }, () => baseReport(node, 0));
      sender.start();
      return { node, transport, outbox, sender };
    }

    it('stores every change once, answers the same from every replica, and keeps one leader at a time', async () => {
      mkdirSync(dir.path, { recursive: true });
      const [first] = await waitFor('a leader', async () => { const l = await leaders(); return l.length === 1 ? l : undefined; }, 10_000);
      for (const node of AGENTS.nats) agents.push(startAgent(node, 'nats'));
      for (const node of AGENTS.grpc) agents.push(startAgent(node, 'grpc'));

      // The agents: one numbered change each every CHANGE_EVERY_MS.
      let appended = 0;
      const streaming = (async () => {
        for (let k = 1; k <= CHANGES; k++) {
          await new Promise((r) => setTimeout(r, CHANGE_EVERY_MS));
          for (const a of agents) {
            a.outbox.append({ kind: 'delta', delta: { scannedAt: new Date().toISOString(), added: [change(k)], changed: [], resolved: [] } },
              () => baseReport(a.node, k));
          }
          appended = k;
        }
      })();

      // Meanwhile, one replica at a time: the leader killed (another takes over within 10 s), a follower killed, a
      // replica drained with SIGTERM, the new leader killed; each started again.
      const takeovers: number[] = [];
      const killLeader = async (leader: Replica): Promise<void> => {
        const killedAt = Date.now();
        await leader.kill();
        await waitFor('a new leader', async () => {
          const l = await leaders();
          return l.length === 1 && l[0] !== leader ? l : undefined;
        }, 12_000);
        takeovers.push(Date.now() - killedAt);
        await leader.start();
      };
      await new Promise((r) => setTimeout(r, 1_500));
      await killLeader(first);
      const follower = replicas.find((r) => r.running && r !== first)!;
      const followerIsLeader = (await leaders()).includes(follower);
      if (!followerIsLeader) {
        await follower.kill();
        await new Promise((r) => setTimeout(r, 500));
        await follower.start();
      }
      // The replica holding the most gRPC streams now.
      const drained = [...replicas].filter((r) => r.running).sort((a, b) => (fwd!.open.get(b.index) ?? 0) - (fwd!.open.get(a.index) ?? 0))[0];
      await drained.terminate();
      await drained.start();
      const [second] = await leaders();
      await killLeader(second);
      await streaming;
      expect(appended).toBe(CHANGES);

      // Every agent's outbox drained: gRPC acks come from a replica that stored the message, NATS acks from JetStream.
      await waitFor('every outbox acknowledged', async () =>
        agents.every((a) => a.outbox.cursor(a.transport) >= a.outbox.lastSeq), 30_000);
      // Then every change is in the store (NATS: a killed replica's unacked messages come back after ack_wait).
      const nodes = agents.map((a) => a.node);
      await waitFor('every change stored', async () => {
        const { rows } = await db!.query<{ node: string; n: string }>(`SELECT node, COUNT(*) AS n FROM findings
          WHERE check_id LIKE 'change-%' AND resolved_at IS NULL GROUP BY node`);
        return rows.length === nodes.length && rows.every((r) => Number(r.n) === CHANGES);
      }, 40_000);

      // Exactly once: each change is one row and one `new` in the change feed; each node's last seq is its outbox's.
      for (const a of agents) {
        const { rows } = await db!.query<{ last_seq: string }>('SELECT last_seq FROM nodes WHERE name = $1', [a.node]);
        expect(Number(rows[0].last_seq)).toBe(a.outbox.lastSeq);
        const feed = await json(`${replicas[0].httpUrl}/api/v1/changes?node=${a.node}&since=1h&limit=1000`);
        const changes = feed.items.filter((c: any) => c.checkId.startsWith('change-'));
        expect(changes.map((c: any) => c.event)).toEqual(Array(CHANGES).fill('new'));
        expect(new Set(changes.map((c: any) => c.findingId)).size).toBe(CHANGES);
      }

      // Correlation kept running: a result computed after the last change, the same from every replica.
      const lastStored = Number((await db!.query<{ at: string }>(`SELECT MAX(first_seen) AS at FROM findings`)).rows[0].at);
      const answers = await waitFor('the same answer from every replica', async () => {
        const got = await Promise.all(replicas.map(async (r) => ({
          summary: await json(`${r.httpUrl}/api/v1/summary`), correlations: await json(`${r.httpUrl}/api/v1/correlations`),
        })));
        const texts = got.map((g) => JSON.stringify(g));
        const fresh = Date.parse(got[0].summary.computedAt) >= lastStored;
        return fresh && texts.every((t) => t === texts[0]) ? got : undefined;
      }, 20_000);
      const { summary, correlations } = answers[0];
      expect(summary.nodes).toEqual({ total: 6, reporting: 6, silent: 0 });
      expect(summary.findings.open.fail).toBe(6 * CHANGES + 1);
      expect(correlations.items.map((c: any) => c.id)).toContainEqual(expect.stringMatching(new RegExp(`^drift:worker:.*:${DRIFTER}$`)));

      // Leadership: taken over within 10 s, one leader at a time (each term starts after the previous one ended or
      // was last seen holding the lease: a killed holder's lease ends with its connection), one leader now.
      if (process.env.VIGIL_SCALE_DEBUG) console.log({ takeovers, connections: [...fwd!.connections], terms: (await db!.query("SELECT * FROM leader_terms ORDER BY term")).rows });
      expect(takeovers.every((ms) => ms < 10_000)).toBe(true);
      const { rows: terms } = await db!.query<{ term: string; replica: string; started_at: string; last_seen: string; ended_at: string | null }>(
        'SELECT * FROM leader_terms ORDER BY term');
      expect(terms.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < terms.length; i++) {
        const previous = terms[i - 1];
        const previousEnd = Number(previous.ended_at ?? previous.last_seen);
        expect(Number(terms[i].started_at)).toBeGreaterThanOrEqual(previousEnd);
        expect(Number(terms[i].term)).toBe(Number(previous.term) + 1);
      }
      expect(await leaders()).toHaveLength(1);
      // gRPC agents were spread over more than one replica by the forwarder.
      expect([...fwd!.connections.values()].filter((n) => n > 0).length).toBeGreaterThan(1);
    }, 120_000);
  });
