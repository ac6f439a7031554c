// A real collector (SQLite in a temp dir, loopback HTTP) reading a STAND-IN Kubernetes API (test/harness/kube-api.ts):
// no kube-apiserver runs here, so a loopback HTTP server answers client-node's list and watch requests from
// objects the tests write.
import pino from 'pino';
import type { CollectorOptions } from '../../../collector/app/options.js';
import { startCollector, type RunningCollector } from '../../../collector/app/start.js';
import { loadTokens } from '../../../collector/serve/auth.js';
import { tempDir } from '../../harness/integration.js';
import { startKubeApi, type KubeApiStandIn } from '../../harness/kube-api.js';

const READ = 'read-token-0123456789abcdef';
const REPORT = 'report-token-0123456789abcdef';

export interface ClusterCollector {
  api: KubeApiStandIn;
  collector: RunningCollector;
  get(path: string, token?: string): Promise<{ status: number; body: any }>;
  post(path: string, body: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** Waits until the source has evaluated and stored what the stand-in holds now. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export async function startClusterCollector(opts: { kube?: boolean; before?: (api: KubeApiStandIn) => void } = {}): Promise<ClusterCollector> {
  const api = await startKubeApi();
  opts.before?.(api);
  const dir = tempDir('cluster-collector');
  const options: CollectorOptions = {
    dataDir: dir.path,
    http: { host: '127.0.0.1', port: 0 },
    tokens: loadTokens(`${READ} read reader\n${REPORT} report agent\n`),
    retentionMs: 30 * 86_400_000,
    reportIntervalMs: 60_000,
    maxReportBytes: 8 * 1024 * 1024,
    correlateIntervalMs: 0,
    logLevel: 'silent',
    sqliteSynchronous: 'NORMAL',
    ...(opts.kube === false ? {} : { kube: { source: 'kubeconfig' as const, path: api.kubeconfigFile(), context: 'stand-in' } }),
  };
  const collector = await startCollector(options, {
    log: pino({ level: 'silent' }),
    checkResponses: true,
    cluster: { debounceMs: 20, maxDelayMs: 100, nodeViewDelayMs: 50, settleTimeoutMs: 5_000, reflector: { backoff: { baseMs: 20, maxMs: 200 } } },
  });
  const request = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(collector.httpUrl + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed as any };
  };
  return {
    api,
    collector,
    get: (path, token = READ) => request('GET', path, token),
    post: (path, body, token = REPORT) => request('POST', path, token, body),
    async settled() {
      if (!collector.cluster) return;
      await api.watching();
      // A change the stand-in made just now may still be on its way to the reflectors.
      await new Promise((r) => setTimeout(r, 50));
      await collector.cluster.idle();
      await collector.ingestor.flush();
    },
    async stop() {
      await collector.close();
      await api.close();
      dir.cleanup();
    },
  };
}

/** Polls until `check` returns something truthy (the store is written asynchronously). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
