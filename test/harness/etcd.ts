// A real etcd (Debian's etcd-server) for integration tests: private data dir in a temp dir, free ports,
// and stopped by its own pid. The client URL may be bound to 0.0.0.0 on purpose (the test judges exposure);
// nothing outside this machine talks to it and the peer URL stays on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary, freePort, tempDir } from './integration.js';

export const ETCD_BIN = findBinary('etcd', ['/usr/bin/etcd']);

interface EtcdOptions {
  /** Host the client URL listens on (default 127.0.0.1). */
  clientHost?: string;
  /** Mode of the data dir once etcd runs (etcd only warns about anything looser than 700). */
  dataDirMode?: number;
  /** Serve peers over TLS with these files (paths on this machine). */
  peerTls?: { certFile: string; keyFile: string; trustedCaFile?: string };
  /** Extra arguments, e.g. ['--client-cert-auth=false']. */
  args?: string[];
}

export interface RunningEtcd {
  pid: number;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  /** The temp dir holding the data dir; tests may put certificates there. */
  dir: string;
  argv: string[];
  /** Everything etcd wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export async function startEtcd(opts: EtcdOptions = {}, dir = tempDir('etcd')): Promise<RunningEtcd> {
  if (!ETCD_BIN) throw new Error('etcd binary not found');
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const dataDir = join(dir.path, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const peerScheme = opts.peerTls ? 'https' : 'http';
  const peerUrl = `${peerScheme}://127.0.0.1:${peerPort}`;
  const argv = [
    '--name', 'vigil-test',
    '--data-dir', dataDir,
    '--listen-client-urls', `http://${opts.clientHost ?? '127.0.0.1'}:${clientPort}`,
    '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `vigil-test=${peerUrl}`,
    '--initial-cluster-state', 'new',
    ...(opts.peerTls ? ['--peer-cert-file', opts.peerTls.certFile, '--peer-key-file', opts.peerTls.keyFile] : []),
    ...(opts.peerTls?.trustedCaFile ? ['--peer-trusted-ca-file', opts.peerTls.trustedCaFile] : []),
    ...(opts.args ?? []),
  ];
  let output = '';
  const child: ChildProcess = spawn(ETCD_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    dir.cleanup();
  };

  try {
    await waitHealthy(clientPort, child, () => output);
    if (opts.dataDirMode !== undefined) chmodSync(dataDir, opts.dataDirMode);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid!, clientPort, peerPort, dataDir, dir: dir.path, argv: [ETCD_BIN, ...argv], output: () => output, stop };
}

async function waitHealthy(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}:\n${output().slice(-4000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok && (await res.text()).includes('true')) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd not healthy on 127.0.0.1:${port} after 20 s:\n${output().slice(-4000)}`);
}
