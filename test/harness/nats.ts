// A private nats-server with JetStream on a loopback port and a temp store dir; restartable on the same
// port and store (for the outage tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { findBinary, freePort, tempDir } from './integration.js';

export const NATS_SERVER = findBinary('nats-server', ['/usr/sbin/nats-server', '/usr/bin/nats-server']);

export interface NatsHarness {
  url: string;
  port: number;
  storeDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const sock = netConnect({ host: '127.0.0.1', port }, () => { sock.destroy(); resolve(); });
      sock.on('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} not listening after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startNats(): Promise<NatsHarness> {
  if (!NATS_SERVER) throw new Error('nats-server not installed');
  const port = await freePort();
  const store = tempDir('nats');
  let proc: ChildProcess | undefined;
  const h: NatsHarness = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: store.path,
    async start() {
      proc = spawn(NATS_SERVER!, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store.path], { stdio: 'ignore' });
      await waitForPort(port);
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    async restart() { await h.stop(); await h.start(); },
    async cleanup() { await h.stop(); store.cleanup(); },
  };
  await h.start();
  return h;
}
