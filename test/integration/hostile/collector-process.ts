// The real `vigil-collector serve` process for the hostile-input and fault tests and the hostile-load benchmark:
// started from the built CLI on a loopback port with its own tokens and data dir, its memory read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../harness/integration.js';

export const REPORT_TOKEN = 'hostile-report-token-0123456789';
export const READ_TOKEN = 'hostile-read-token-0123456789';

export interface CollectorProcess {
  pid: number;
  url: string;
  port: number;
  /** Everything the process wrote on stderr (pino JSON lines). */
  stderr(): string;
  /** Resident memory now (VmRSS) and its peak since the last resetPeak() (VmHWM), in MiB. */
  rssMiB(): number;
  peakRssMiB(): number;
  /** Resets the peak (VmHWM) so the next peakRssMiB() covers only what follows. */
  resetPeak(): void;
  exited(): Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function statusField(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** Starts the collector and waits until it answers /healthz (or exits). */
export async function startCollectorProcess(cli: string, dir: string, args: string[] = [], opts: { waitReady?: boolean } = {}): Promise<CollectorProcess> {
  const tokens = join(dir, 'tokens');
  writeFileSync(tokens, `${REPORT_TOKEN} report agents\n${READ_TOKEN} read readers\n`, { mode: 0o600 });
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--data-dir', join(dir, 'data'), '--http-listen', `127.0.0.1:${port}`,
    '--tokens', tokens, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const proc: CollectorProcess = {
    pid: child.pid!,
    url,
    port,
    stderr: () => stderr,
    rssMiB: () => statusField(child.pid!, 'VmRSS'),
    peakRssMiB: () => statusField(child.pid!, 'VmHWM'),
    resetPeak: () => writeFileSync(`/proc/${child.pid}/clear_refs`, '5'),
    exited: () => exit,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
  if (opts.waitReady === false) return proc;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`collector exited ${child.exitCode}: ${stderr}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return proc;
    if (Date.now() > deadline) throw new Error(`collector not up: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A body of `[{},{},…]` about `bytes` long: cheap to send, very expensive to parse into objects. */
export function emptyObjectsBody(bytes: number): Buffer {
  const body = Buffer.alloc(bytes, ',');
  body[0] = 0x5b; // [
  for (let i = 1; i + 2 < bytes - 1; i += 3) { body[i] = 0x7b; body[i + 1] = 0x7d; } // {},
  body[bytes - 2] = 0x7b;
  body[bytes - 1] = 0x5d; // …{]  (never parsed: refused before the body is read)
  return body;
}

/**
 * POSTs a raw body with node:http (no client-side buffering or retries) and times the answer: from the first byte
 * sent to the status line received. The body keeps streaming after an early answer, as an attacker's would.
 */
export function postRaw(url: string, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const target = new URL(path, url);
    const req = http.request({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers },
    }, (res) => {
      const ms = performance.now() - started;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms }));
    });
    req.on('error', reject);
    // The server answers early and may close the connection while the body is still going out (EPIPE, ECONNRESET):
    // that is the point, not a failure, and it can come after the answer, when nothing listens on the request.
    req.on('socket', (socket) => socket.on('error', () => undefined));
    req.end(body);
  });
}

/** GETs a path every `everyMs` until stopped; returns each answer's latency (ms) and any non-200 status. */
export function pollLatency(url: string, path: string, everyMs = 10): { stop(): Promise<{ latencies: number[]; failures: number }> } {
  let running = true;
  const latencies: number[] = [];
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const res = await fetch(url + path).catch(() => undefined);
      latencies.push(performance.now() - t);
      if (res?.status !== 200) failures++;
      await res?.arrayBuffer();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return { async stop() { running = false; await loop; return { latencies, failures }; } };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
