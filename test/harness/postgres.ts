// A private PostgreSQL for tests and benchmarks: initdb in a temp dir, postgres on a loopback port, always stopped.
// As root, initdb and postgres refuse to run, so both run as the `postgres` OS user (uid/gid on spawn) and the
// temp dir is handed to that user.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findBinary, freePort } from './integration.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';

export const postgresBinaries = {
  initdb: findBinary('initdb', [`${PG_BIN}/initdb`]),
  postgres: findBinary('postgres', [`${PG_BIN}/postgres`]),
};

export interface PostgresServer {
  port: number;
  /** Connection URL for a database on this server. */
  url(database?: string): string;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

interface RunAs { uid: number; gid: number }

function runAsUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function waitReady(url: string, child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres not ready after ${timeoutMs} ms: ${(err as Error).message}; ${log()}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface StartPostgresOptions {
  /** fsync off makes tests fast; benchmarks keep the default durable settings. */
  durable?: boolean;
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const { initdb, postgres } = postgresBinaries;
  if (!initdb || !postgres) throw new Error('PostgreSQL binaries not found (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pg-'));
  const user = runAsUser();
  let child: ChildProcess | undefined;
  let output = '';
  const killOnExit = (): void => { child?.kill('SIGKILL'); };
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    const dataDir = join(dir, 'data');
    execFileSync(initdb, ['-D', dataDir, '-U', 'vigil', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C'], {
      cwd: dir, stdio: 'pipe', ...(user ?? {}),
    });
    const port = await freePort();
    const args = ['-D', dataDir, '-k', dir, '-h', '127.0.0.1', '-p', String(port), '-c', 'max_connections=50'];
    if (!opts.durable) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    child = spawn(postgres, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
    child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
    process.once('exit', killOnExit);
    const url = (database = 'postgres'): string => `postgres://vigil@127.0.0.1:${port}/${database}`;
    await waitReady(url(), child, () => output);
    const running = child;
    return {
      port,
      url,
      async createDatabase(name: string): Promise<string> {
        const client = new pg.Client({ connectionString: url() });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
        } finally {
          await client.end();
        }
        return url(name);
      },
      async stop(): Promise<void> {
        await stopChild(running);
        process.removeListener('exit', killOnExit);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (child) await stopChild(child);
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** SIGINT is PostgreSQL's fast shutdown; SIGKILL if it has not exited after 10 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
