// How `vigil-collector serve` decides to read the Kubernetes API, and that no agent transport can write node
// `cluster` (the collector's own source can).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeOptions } from '../../../collector/app/options.js';
import { CLUSTER_NODE } from '../../../collector/cluster/checks/catalogue.js';
import { loadKubeConfig } from '../../../collector/cluster/kubeconfig.js';
import { BatchingIngestor, DeliveryIngestor, type DeliveryMetrics } from '../../../collector/ingest/ingestor.js';
import { ReservedNodeError } from '../../../collector/ingest/types.js';
import { openStore } from '../../../collector/store/open.js';
import type { Store } from '../../../collector/store/types.js';
import { tempDir } from '../../harness/integration.js';
import { full, report } from '../collector/helpers.js';

const raw = { dataDir: '/tmp/x', httpListen: '127.0.0.1:8080', auth: false, retention: '30d', reportInterval: '5m',
  maxReportSize: '32mb', correlateInterval: '5s', logLevel: 'info', sqliteSync: 'FULL' };

function kubeconfigFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vigil-kc-')), 'config');
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config', 'current-context: a',
    'clusters:', '- name: a\n  cluster:\n    server: https://10.0.0.1:6443', '- name: b\n  cluster:\n    server: https://10.0.0.2:6443',
    'users:', '- name: u\n  user:\n    token: t',
    'contexts:', '- name: a\n  context:\n    cluster: a\n    user: u', '- name: b\n  context:\n    cluster: b\n    user: u', '',
  ].join('\n'));
  return file;
}

describe('serve options for the Kubernetes API', () => {
  it('reads it with --kubeconfig (and --kube-context), not at all with --no-kube, and not outside a pod without them', () => {
    const file = kubeconfigFile();
    expect(resolveServeOptions({ ...raw, kubeconfig: file }).kube).toEqual({ source: 'kubeconfig', path: file });
    expect(resolveServeOptions({ ...raw, kubeconfig: file, kubeContext: 'b' }).kube).toEqual({ source: 'kubeconfig', path: file, context: 'b' });
    expect(resolveServeOptions({ ...raw, kube: false }).kube).toBeUndefined();
    // This machine is not a pod: no in-cluster config, so no API unless asked.
    expect(resolveServeOptions(raw).kube).toBeUndefined();
    expect(() => resolveServeOptions({ ...raw, kube: false, kubeconfig: file })).toThrow(/contradict/);
    expect(() => resolveServeOptions({ ...raw, kubeContext: 'b' })).toThrow(/--kube-context needs --kubeconfig/);
    expect(() => resolveServeOptions({ ...raw, kubeconfig: '/nonexistent/kubeconfig' })).toThrow(/^--kubeconfig: ENOENT/);
  });

  it('picks the context, and names the contexts there are when it does not exist', () => {
    const file = kubeconfigFile();
    expect(loadKubeConfig({ kubeconfig: file }).getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(loadKubeConfig({ kubeconfig: file, context: 'b' }).getCurrentCluster()?.server).toBe('https://10.0.0.2:6443');
    expect(() => loadKubeConfig({ kubeconfig: file, context: 'c' })).toThrow(/--kube-context c: no such context .* \(has a, b\)/);
  });
});

describe('node cluster is reserved for the collector\'s own source', () => {
  let store: Store;
  let dir: ReturnType<typeof tempDir>;
  let ingestor: BatchingIngestor;

  beforeAll(async () => {
    dir = tempDir('reserved');
    store = await openStore({ dataDir: dir.path, sqliteSynchronous: 'NORMAL' }, pino({ level: 'silent' }));
    ingestor = new BatchingIngestor(store, { reservedNodes: [CLUSTER_NODE] });
  });
  afterAll(async () => { await store.close(); dir.cleanup(); });

  it('refuses it to ingest() and enqueue() (agents, HTTP) and stores it through ingestOwn()', async () => {
    const forged = full(report(CLUSTER_NODE, []), 1);
    await expect(ingestor.ingest(forged)).rejects.toBeInstanceOf(ReservedNodeError);
    await expect(ingestor.enqueue(forged)).rejects.toMatchObject({ statusCode: 403 });
    expect(await store.node(CLUSTER_NODE)).toBeUndefined();
    expect(await ingestor.ingestOwn(forged)).toMatchObject({ applied: true });
    expect(await store.node(CLUSTER_NODE)).toBeDefined();
  });

  it('rejects it on the streaming transports\' path even for a caller trusted for every node', async () => {
    const counts: string[] = [];
    const metrics: DeliveryMetrics = { received: () => undefined, refused: () => undefined, invalid: (t) => counts.push(t), resync: () => undefined };
    const delivery = new DeliveryIngestor(ingestor, { metrics, log: pino({ level: 'silent' }) });
    const r = report(CLUSTER_NODE, []);
    const answer = await delivery.receive({ node: CLUSTER_NODE, cluster: 'c', seq: 99, payload: { kind: 'full', report: r } }, { transport: 'grpc' });
    expect(answer).toMatchObject({ kind: 'reject', seq: 99 });
    expect(answer.kind === 'reject' && answer.reason).toMatch(/reserved/);
    expect(counts).toEqual(['grpc']);
    expect((await store.node(CLUSTER_NODE))?.lastSeq).toBe(1);
  });
});
