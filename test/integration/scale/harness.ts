// What the multi-replica test runs: a 3-node nats-server JetStream cluster on loopback ports, `vigil-collector
// serve` processes (the built CLI) that can be killed and started again on the same ports, and a TCP forwarder
// standing in for the Kubernetes Service in front of the replicas' gRPC ports (kube-proxy cannot run here: the
// forwarder spreads connections round-robin over the replicas that accept them, as a Service's endpoints would).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort, tempDir } from '../../harness/integration.js';
import { NATS_SERVER, waitForPort } from '../../harness/nats.js';

async function stopChild(p: ChildProcess | undefined, signal: NodeJS.Signals, graceMs = 8_000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface NatsCluster {
  /** Every server's client URL, comma-joined (clients fail over between them). */
  url: string;
  stop(): Promise<void>;
}

/** Three JetStream servers routed to each other; resolves once a meta leader is elected. */
export async function startNatsCluster(): Promise<NatsCluster> {
  if (!NATS_SERVER) throw new Error('nats-server not installed');
  const dir = tempDir('nats-cluster');
  const clientPorts = [await freePort(), await freePort(), await freePort()];
  const routePorts = [await freePort(), await freePort(), await freePort()];
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const procs: ChildProcess[] = [];
  let log = '';
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => stopChild(p, 'SIGTERM', 5_000)));
    dir.cleanup();
  };
  try {
    for (let i = 0; i < 3; i++) {
      const p = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(clientPorts[i]), '-sd', `${dir.path}/s${i}`, '-n', `n${i}`,
        '--cluster_name', 'vigil-test', '--cluster', `nats://127.0.0.1:${routePorts[i]}`, '--routes', routes], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-20_000); });
      procs.push(p);
    }
    await Promise.all(clientPorts.map((p) => waitForPort(p)));
    const deadline = Date.now() + 20_000;
    while (!/new metadata leader|JetStream cluster new leader|Self is new JetStream cluster metadata leader/.test(log)) {
      if (Date.now() > deadline) throw new Error(`no JetStream meta leader elected: ${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { url: clientPorts.map((p) => `nats://127.0.0.1:${p}`).join(','), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Replica {
  index: number;
  httpUrl: string;
  grpcPort: number;
  /** Whether the process runs. */
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGKILL: no drain, no cleanup, its connections drop. */
  kill(): Promise<void>;
  /** SIGTERM: drains (gRPC GOAWAY, acks what it received), steps down, exits. */
  terminate(): Promise<void>;
  output(): string;
}

interface ReplicaArgs {
  cli: string;
  databaseUrl: string;
  natsUrl: string;
  index: number;
}

export async function replica(a: ReplicaArgs): Promise<Replica> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  let proc: ChildProcess | undefined;
  let out = '';
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const r: Replica = {
    index: a.index,
    httpUrl,
    grpcPort,
    get running() { return proc !== undefined && proc.exitCode === null && proc.signalCode === null; },
    async start() {
      const p = spawn(process.execPath, [a.cli, 'serve', '--database-url', a.databaseUrl, '--http-listen', `127.0.0.1:${httpPort}`, '--no-auth',
        '--no-kube', '--nats-url', a.natsUrl, '--nats-stream-replicas', '3', '--grpc-listen', `127.0.0.1:${grpcPort}`, '--insecure',
        '--correlate-interval', '300ms', '--report-interval', '5m', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout?.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-60_000); });
      p.stderr?.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-60_000); });
      proc = p;
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (p.exitCode !== null) throw new Error(`replica ${a.index} exited with ${p.exitCode}: ${out.slice(-3000)}`);
        try {
          if ((await fetch(`${httpUrl}/readyz`)).status === 200) break;
        } catch { /* not listening yet */ }
        if (Date.now() > deadline) throw new Error(`replica ${a.index} not ready: ${out.slice(-3000)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      await waitForPort(grpcPort);
    },
    async kill() {
      if (process.env.VIGIL_SCALE_DEBUG) console.log(`${new Date().toISOString()} kill ${a.index}`);
      await stopChild(proc, 'SIGKILL');
    },
    async terminate() {
      if (process.env.VIGIL_SCALE_DEBUG) console.log(`${new Date().toISOString()} terminate ${a.index}`);
      await stopChild(proc, 'SIGTERM', 15_000);
      if (process.env.VIGIL_SCALE_DEBUG) console.log(`${new Date().toISOString()} terminated ${a.index}`);
    },
    output: () => out,
  };
  return r;
}

export interface Forwarder {
  /** One port per agent: grpc-js shares one connection between clients of the same target in a process, and real
   * agents on different nodes each have their own. */
  ports: number[];
  /** Connections made so far, by the replica they reached. */
  connections: Map<number, number>;
  /** Connections open now, by replica. */
  open: Map<number, number>;
  close(): Promise<void>;
}

/** Accepts on `count` ports and pipes each connection to the next replica (round-robin) that accepts it. */
export async function forwarder(replicas: () => Replica[], count: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const connections = new Map<number, number>();
  const open = new Map<number, number>();
  let next = 0;
  const accept = (client: Socket): void => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const candidates = replicas();
    const attempt = (tries: number): void => {
      if (tries >= candidates.length || client.destroyed) { client.destroy(); return; }
      const target = candidates[next++ % candidates.length];
      const upstream = connect({ host: '127.0.0.1', port: target.grpcPort });
      let connected = false;
      sockets.add(upstream);
      upstream.on('close', () => {
        sockets.delete(upstream);
        if (!connected) return;
        open.set(target.index, (open.get(target.index) ?? 1) - 1);
        client.destroy();
      });
      upstream.on('error', () => {
        upstream.destroy();
        if (!connected) attempt(tries + 1);
      });
      upstream.once('connect', () => {
        connected = true;
        connections.set(target.index, (connections.get(target.index) ?? 0) + 1);
        open.set(target.index, (open.get(target.index) ?? 0) + 1);
        if (process.env.VIGIL_SCALE_DEBUG) console.log(`${new Date().toISOString()} forwarder -> replica ${target.index}`);
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  };
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer(accept);
    servers.push(server);
    ports.push(await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    })));
  }
  return {
    ports,
    connections,
    open,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
    },
  };
}
