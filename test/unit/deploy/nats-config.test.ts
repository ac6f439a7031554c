// deploy/overlays/ha/nats/nats.conf, run as it is shipped by three real nats-server processes on loopback: only
// the pod-specific parts are substituted (listen addresses, route names, directories; a stand-in for the pods'
// DNS and volumes), the accounts, users, permissions and TLS stay as written. Real nats.js clients with the
// nkeys and the certificate `vigil-collector certs ensure` makes check what each user may and may not do.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  AckPolicy, connect, nkeyAuthenticator, nkeys, StorageType, type ConnectionOptions, type NatsConnection,
} from 'nats';
import { ensureMaterial } from '../../../collector/certs/pki.js';
import { serviceNames } from '../../../collector/certs/command.js';
import { writeDir } from '../../../collector/certs/dir-store.js';
import { describeWithDaemons, freePort, tempDir } from '../../harness/integration.js';
import { NATS_SERVER, waitForPort } from '../../harness/nats.js';
import { DEPLOY } from './kustomize.js';

const CONF = join(DEPLOY, 'overlays', 'ha', 'nats', 'nats.conf');
const STREAM = 'VIGIL_FINDINGS';
const AGENT_INBOX = '_INBOX_vigil_agent';

interface Server { name: string; port: number; clusterPort: number; proc?: ChildProcess; }

/** The shipped config with the pod-specific parts swapped for loopback ones; throws if one of them moved. */
export function renderForLoopback(text: string, dir: string, me: Server, all: Server[]): string {
  const swaps: [string | RegExp, string][] = [
    ['listen: 0.0.0.0:4222', `listen: 127.0.0.1:${me.port}`],
    ['http: 0.0.0.0:8222', 'http: 127.0.0.1:0'],
    ['listen: 0.0.0.0:6222', `listen: 127.0.0.1:${me.clusterPort}`],
    ['/var/run/nats/nats.pid', join(dir, 'nats.pid')],
    ['/data/jetstream', join(dir, 'jetstream')],
    ['/etc/nats/tls/', `${dir}/../pki/`],
    ...all.map((s, i) => [`nats://vigil-nats-${i}.vigil-nats-cluster:6222`, `nats://127.0.0.1:${s.clusterPort}`] as [string, string]),
  ];
  let out = text;
  for (const [from, to] of swaps) {
    if (!out.includes(from as string)) throw new Error(`nats.conf no longer contains ${String(from)}`);
    out = out.split(from as string).join(to);
  }
  return out;
}

const users = { agent: nkeys.createUser(), collector: nkeys.createUser(), stranger: nkeys.createUser() };
const seedOf = (u: keyof typeof users): Uint8Array => users[u].getSeed();
let root: ReturnType<typeof tempDir>;
let servers: Server[];
let ca: string;
const open: NatsConnection[] = [];

async function client(user: keyof typeof users | undefined, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const nc = await connect({
    servers: servers.filter((s) => s.proc?.exitCode === null).map((s) => `tls://127.0.0.1:${s.port}`),
    tls: { ca },
    ...(user ? { authenticator: nkeyAuthenticator(seedOf(user)) } : {}),
    maxReconnectAttempts: 0,
    timeout: 5_000,
    ...extra,
  });
  open.push(nc);
  return nc;
}

/** The error a promise rejects with (or 'resolved'), with its message for the assertion. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
  }
}

function startServer(s: Server): Promise<void> {
  s.proc = spawn(NATS_SERVER!, ['-c', join(root.path, s.name, 'nats.conf')], {
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH ?? '',
      POD_NAME: s.name,
      VIGIL_NATS_AGENT_NKEY: users.agent.getPublicKey(),
      VIGIL_NATS_COLLECTOR_NKEY: users.collector.getPublicKey(),
    },
  });
  return waitForPort(s.port);
}

describeWithDaemons('deploy/overlays/ha/nats/nats.conf on a three-server JetStream cluster', { 'nats-server': NATS_SERVER }, () => {
  beforeAll(async () => {
    root = tempDir('nats-conf');
    // The serving certificate as the collector's init container makes it in the ha overlay (it names vigil-nats).
    const material = ensureMaterial({}, {
      commonName: 'vigil-nats.vigil.svc',
      dnsNames: [...serviceNames(['vigil-collector', 'vigil-nats'], 'vigil', 'cluster.local'), 'localhost'],
      ipAddresses: ['127.0.0.1'],
      servingValidityMs: 30 * 86_400_000,
      caValidityMs: 60 * 86_400_000,
      renewWhenLeft: 1 / 3,
    }, new Date()).material;
    writeDir(join(root.path, 'pki'), material, new Date());
    ca = readFileSync(join(root.path, 'pki', 'ca.crt'), 'utf8');
    servers = await Promise.all(['vigil-nats-0', 'vigil-nats-1', 'vigil-nats-2'].map(async (name) => ({ name, port: await freePort(), clusterPort: await freePort() })));
    const text = readFileSync(CONF, 'utf8');
    for (const s of servers) {
      mkdirSync(join(root.path, s.name));
      writeFileSync(join(root.path, s.name, 'nats.conf'), renderForLoopback(text, join(root.path, s.name), s, servers));
    }
    await Promise.all(servers.map(startServer));
    // The collector creates the stream, replicated on all three servers, and its durable pull consumer.
    const collector = await client('collector');
    const deadline = Date.now() + 40_000;
    for (;;) {
      try {
        const jsm = await collector.jetstreamManager();
        await jsm.streams.add({ name: STREAM, subjects: ['vigil.findings.>'], storage: StorageType.File, num_replicas: 3 })
          .catch((err: Error) => { if (!/already in use/.test(err.message)) throw err; });
        await jsm.consumers.add(STREAM, { durable_name: 'vigil-collector', ack_policy: AckPolicy.Explicit, filter_subject: 'vigil.findings.>' });
        break;
      } catch (err) {
        // Until the three servers have elected a JetStream leader, requests time out or find no peers.
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    for (const s of servers ?? []) s.proc?.kill('SIGKILL');
    root?.cleanup();
  });

  it('lets an agent publish findings and get the acknowledgement on its own inbox prefix', async () => {
    const agent = await client('agent', { inboxPrefix: AGENT_INBOX });
    const ack = await agent.jetstream().publish('vigil.findings.default.node-1', new TextEncoder().encode('{"seq":1}'), { msgID: 'node-1:1' });
    expect(ack.stream).toBe(STREAM);
    expect(ack.duplicate).toBe(false);
  });

  it('gives an agent with the default inbox no acknowledgement: the prefix is required', async () => {
    const agent = await client('agent');
    const why = await failure(agent.jetstream().publish('vigil.findings.default.node-1', new Uint8Array([1]), { timeout: 2_000 }));
    expect(why).toMatch(/PERMISSIONS_VIOLATION.*Subscription to "_INBOX\./);
  });

  it('does not let an agent read findings, other inboxes, or touch the stream', async () => {
    const agent = await client('agent', { inboxPrefix: AGENT_INBOX });
    for (const subject of ['vigil.findings.>', '_INBOX.>', '$JS.API.>']) {
      // The server refuses the subscription; nats.js ends its iterator with the permissions error.
      const sub = agent.subscribe(subject);
      const why = await failure((async () => { for await (const m of sub) throw new Error(`received ${m.subject}`); })());
      expect(why, subject).toMatch(/PERMISSIONS_VIOLATION.*Permissions Violation for Subscription/i);
    }
    const jsm = await (await client('agent', { inboxPrefix: AGENT_INBOX })).jetstreamManager({ checkAPI: false });
    expect(await failure(jsm.streams.delete(STREAM))).not.toBe('resolved');
    expect(await failure(jsm.streams.info(STREAM))).not.toBe('resolved');
    // Outside vigil.findings.> nothing is published.
    const other = await client('agent', { inboxPrefix: AGENT_INBOX });
    const errors = (async () => { for await (const s of other.status()) if (s.type === 'error') return String(s.data); return ''; })();
    other.publish('vigil.control.reset', new Uint8Array([1]));
    expect(await errors).toMatch(/PERMISSIONS_VIOLATION/);
  });

  it('lets the collector pull and acknowledge, and not publish findings itself', async () => {
    const collector = await client('collector');
    const consumer = await collector.jetstream().consumers.get(STREAM, 'vigil-collector');
    const msg = await consumer.next({ expires: 5_000 });
    expect(msg?.subject).toBe('vigil.findings.default.node-1');
    msg!.ack();
    const info = await (await collector.jetstreamManager()).consumers.info(STREAM, 'vigil-collector');
    expect(info.num_ack_pending).toBe(0);
    const errors = (async () => { for await (const s of collector.status()) if (s.type === 'error') return String(s.data); return ''; })();
    collector.publish('vigil.findings.default.node-2', new Uint8Array([1]));
    expect(await errors).toMatch(/PERMISSIONS_VIOLATION/);
  });

  it('refuses clients without a known nkey, and clients without TLS', async () => {
    expect(await failure(client(undefined))).toMatch(/AUTHORIZATION_VIOLATION|Authorization/i);
    expect(await failure(client('stranger'))).toMatch(/AUTHORIZATION_VIOLATION|Authorization/i);
    const plain = connect({ servers: `nats://127.0.0.1:${servers[0].port}`, authenticator: nkeyAuthenticator(seedOf('agent')), tls: null, maxReconnectAttempts: 0, timeout: 3_000 });
    expect(await failure(plain)).not.toBe('resolved');
  });

  it('keeps accepting findings with one of the three servers down', async () => {
    servers[2].proc!.kill('SIGKILL');
    await new Promise((r) => servers[2].proc!.once('exit', r));
    const agent = await client('agent', { inboxPrefix: AGENT_INBOX });
    const deadline = Date.now() + 20_000;
    let ack;
    while (!ack) {
      try {
        ack = await agent.jetstream().publish('vigil.findings.default.node-3', new Uint8Array([3]), { msgID: 'node-3:1', timeout: 3_000 });
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    expect(ack.stream).toBe(STREAM);
  }, 40_000);
});
