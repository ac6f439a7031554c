// The daemon's diff-to-outbox emitter: a full snapshot at start and on request, deltas for changes only,
// and a full snapshot from an interval scan once --full-interval has passed.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding, NodeReport } from '../../../proto/report.js';
import { OutboxEmitter } from '../../../agent/daemon/emitter.js';
import { AgentMetrics } from '../../../agent/ship/metrics.js';
import { Outbox } from '../../../agent/ship/outbox.js';
import { tempDir } from '../../harness/integration.js';

const finding = (status: Finding['status']): Finding => ({
  id: 'cis-1.1.1:a', checkId: 'cis-1.1.1', cis: '1.1.1', status, severity: 'high', title: 't', component: 'kube-apiserver',
  resource: { kind: 'file', path: '/etc/kubernetes/manifests/kube-apiserver.yaml' } as Finding['resource'],
  evidence: { source: 'stat' }, remediation: 'r',
});
const report = (status: Finding['status']): NodeReport => ({
  schemaVersion: 1, node: { name: 'node-a', roles: [] }, scannedAt: new Date().toISOString(), findings: [finding(status)],
  summary: { pass: status === 'pass' ? 1 : 0, fail: status === 'fail' ? 1 : 0, warn: 0, skip: 0, error: 0 },
});

const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => { while (dirs.length) dirs.pop()!.cleanup(); });

function setup(fullIntervalMs: number, now?: () => number): { outbox: Outbox; emitter: OutboxEmitter; metrics: AgentMetrics } {
  const dir = tempDir('emitter');
  dirs.push(dir);
  const outbox = Outbox.open({ dir: dir.path, node: 'node-a', cluster: 'c', transports: ['grpc'] });
  const metrics = new AgentMetrics(() => outbox);
  const emitter = new OutboxEmitter({ outbox, metrics, log: pino({ level: 'silent' }), fullIntervalMs, now }, report('pass'));
  return { outbox, emitter, metrics };
}
const kinds = (outbox: Outbox): string[] => outbox.pending('grpc').map((e) => e.payload.kind);

describe('OutboxEmitter', () => {
  it('queues the first full snapshot, then only changes as deltas', async () => {
    const { outbox, emitter, metrics } = setup(60_000);
    emitter.full();
    emitter.scanned(report('pass'), 'watch', []);
    emitter.scanned(report('pass'), 'interval', []);
    expect(kinds(outbox)).toEqual(['full']);
    emitter.scanned(report('fail'), 'watch', ['/etc/kubernetes/manifests/kube-apiserver.yaml']);
    expect(kinds(outbox)).toEqual(['full', 'delta']);
    const delta = outbox.pending('grpc')[1].payload;
    expect(delta.kind === 'delta' && delta.delta.changed.map((f) => f.status)).toEqual(['fail']);
    expect((await metrics.deltas.get()).values[0].value).toBe(1);
  });

  it('sends a full snapshot from an interval scan once the full interval has passed, and on a resync request', async () => {
    let clock = 1_000_000;
    const { outbox, emitter } = setup(20, () => clock);
    emitter.full();
    clock += 30;
    emitter.scanned(report('pass'), 'watch', []);
    expect(kinds(outbox)).toEqual(['full']);
    emitter.scanned(report('fail'), 'interval', []);
    expect(kinds(outbox)).toEqual(['full', 'full']);
    emitter.scanned(report('pass'), 'interval', []);
    expect(kinds(outbox)).toEqual(['full', 'full', 'delta']);
    emitter.resync('collector lost its data');
    const last = outbox.pending('grpc').at(-1)!.payload;
    expect(last.kind === 'full' && last.report.findings[0].status).toBe('pass');
  });
});
