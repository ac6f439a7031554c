// The routes and fields the dashboard reads (collector/dashboard/API.md): the trend, the change feed, a node's
// history, failures by severity per node, drift's role and baseline; and the trend's sampling while the collector runs.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Housekeeping } from '../../../collector/app/housekeeping.js';
import type { CorrelationEngine } from '../../../collector/correlate/engine.js';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import { tempDir } from '../../harness/integration.js';
import { finding, full, report } from './helpers.js';
import { startTestCollector, type TestCollector } from './collector-harness.js';

const H = 3_600_000;
const anon = (v: boolean) => finding({ checkId: 'cis-4.2.1', cis: '4.2.1', severity: 'high', value: v, status: v ? 'fail' : 'pass',
  title: 'Kubelet rejects anonymous requests' });
const authz = (v: string) => finding({ checkId: 'cis-4.2.2', cis: '4.2.2', severity: 'critical', value: v, status: v === 'AlwaysAllow' ? 'fail' : 'pass' });
const etcd = finding({ checkId: 'cis-2.2', cis: '2.2', component: 'etcd', status: 'fail', severity: 'medium', value: false,
  resource: { kind: 'component', component: 'etcd' } });

describe('the dashboard\'s routes', () => {
  let c: TestCollector;
  const t0 = Date.parse('2025-03-01T12:00:00Z');

  beforeAll(async () => {
    c = await startTestCollector();
    const post = async (r: ReturnType<typeof report>, at: number): Promise<void> => {
      c.clock.now = at;
      expect((await c.post('/api/v1/reports', r)).status).toBe(200);
    };
    await post(report('w-1', [anon(false), authz('Webhook')], { scannedAt: new Date(t0 - 2 * H) }), t0 - 2 * H);
    await post(report('w-2', [anon(true), authz('AlwaysAllow'), etcd], { scannedAt: new Date(t0 - 2 * H) }), t0 - 2 * H);
    await post(report('w-3', [anon(false), authz('Webhook')], { scannedAt: new Date(t0 - 2 * H) }), t0 - 2 * H);
    // An hour later: w-1 turns anonymous auth on; w-2 fixes authorization; etcd's finding goes away.
    await post(report('w-1', [anon(true), authz('Webhook')], { scannedAt: new Date(t0 - H) }), t0 - H);
    await post(report('w-2', [anon(true), authz('Webhook')], { scannedAt: new Date(t0 - H) }), t0 - H);
    c.clock.now = t0;
  });
  afterAll(async () => { await c?.stop(); });

  it('gives every node its open failures by severity', async () => {
    const nodes = (await c.get('/api/v1/nodes')).body.items;
    expect(nodes.map((n: any) => [n.name, n.failingBySeverity])).toEqual([
      ['w-1', { critical: 0, high: 1, medium: 0, low: 0, info: 0 }],
      ['w-2', { critical: 0, high: 1, medium: 0, low: 0, info: 0 }],
      ['w-3', { critical: 0, high: 0, medium: 0, low: 0, info: 0 }],
    ]);
    expect((await c.get('/api/v1/nodes/w-2')).body.failingBySeverity).toEqual(nodes[1].failingBySeverity);
  });

  it('lists what changed, resolutions included, newest first, by node and page', async () => {
    const all = await c.get('/api/v1/changes?since=3h&limit=1000');
    expect(all.status).toBe(200);
    const rows = all.body.items.map((x: any) => [x.at, x.node, x.checkId, x.event, x.status]);
    const at1 = new Date(t0 - H).toISOString();
    expect(rows.slice(0, 4)).toEqual(expect.arrayContaining([
      [at1, 'w-1', 'cis-4.2.1', 'changed', 'fail'],
      [at1, 'w-2', 'cis-4.2.2', 'changed', 'pass'],
      [at1, 'w-2', 'cis-2.2', 'resolved', 'resolved'],
    ]));
    expect(rows.filter((r: unknown[]) => r[3] === 'new')).toHaveLength(7);
    expect(all.body.items[0]).toMatchObject({ severity: expect.any(String), title: expect.any(String), component: expect.any(String) });
    expect(all.body.items.find((x: any) => x.checkId === 'cis-4.2.1' && x.node === 'w-1' && x.event === 'changed'))
      .toMatchObject({ severity: 'high', title: 'Kubelet rejects anonymous requests', component: 'kubelet' });
    // The default window is the last hour.
    expect((await c.get('/api/v1/changes')).body.items).toHaveLength(3);
    expect((await c.get('/api/v1/changes?since=59m')).body.items).toHaveLength(0);
    expect((await c.get('/api/v1/changes?since=3h&node=w-3')).body.items.map((x: any) => x.event)).toEqual(['new', 'new']);

    const paged: unknown[] = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const page = await c.get(`/api/v1/changes?since=3h&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.body.items);
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    expect(paged).toEqual(all.body.items);
    expect((await c.get('/api/v1/changes?limit=0')).body.parameter).toBe('limit');
    expect((await c.get('/api/v1/changes?since=yesterday')).body.parameter).toBe('since');
    const foreign = (await c.get('/api/v1/nodes?limit=1')).body.nextCursor;
    expect((await c.get(`/api/v1/changes?cursor=${foreign}`)).body.parameter).toBe('cursor');
  });

  it('gives a node\'s history: when each finding started failing and was resolved', async () => {
    const res = await c.get('/api/v1/nodes/w-2/history');
    expect(res.status).toBe(200);
    const byCheck = Object.fromEntries(res.body.items.map((h: any) => [h.checkId, h]));
    expect(Object.keys(byCheck).sort()).toEqual(['cis-2.2', 'cis-4.2.1', 'cis-4.2.2']);
    expect(byCheck['cis-2.2']).toMatchObject({ status: 'resolved', openedAt: new Date(t0 - 2 * H).toISOString(),
      resolvedAt: new Date(t0 - H).toISOString(), component: 'etcd', resource: { kind: 'component', component: 'etcd' } });
    expect(byCheck['cis-4.2.2']).toMatchObject({ status: 'pass', openedAt: new Date(t0 - 2 * H).toISOString(), resolvedAt: null });
    expect(byCheck['cis-4.2.2'].events.map((e: any) => `${e.event}:${e.status}`)).toEqual(['changed:pass', 'new:fail']);
    expect(byCheck['cis-4.2.1']).toMatchObject({ status: 'fail', severity: 'high', title: 'Kubelet rejects anonymous requests' });
    // w-3 never failed: nothing to tell.
    expect((await c.get('/api/v1/nodes/w-3/history')).body.items).toEqual([]);
    const first = await c.get('/api/v1/nodes/w-2/history?limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await c.get(`/api/v1/nodes/w-2/history?limit=2&cursor=${first.body.nextCursor}`);
    expect([...first.body.items, ...second.body.items]).toEqual(res.body.items);
    expect(second.body.nextCursor).toBeNull();
    expect((await c.get('/api/v1/nodes/nope/history')).status).toBe(404);
    expect((await c.get('/api/v1/nodes/w-2/history?limit=5001')).body.parameter).toBe('limit');
    expect((await c.get('/api/v1/nodes/w-2/history', '')).status).toBe(401);
  });

  it('plots open findings over time from the hourly points, by hour or by day', async () => {
    const sample = (at: number, high: number) => ({
      at, failing: { critical: 0, high, medium: 0, low: 0, info: 0 }, open: { pass: 3, fail: high, warn: 0, skip: 0, error: 0 } });
    const day = Date.parse('2025-02-27T00:00:00Z');
    for (const [at, high] of [[day + 10 * H, 5], [day + 23 * H, 4], [day + 24 * H, 3], [day + 30 * H, 2]] as const) await c.store.recordTrend(sample(at, high));
    const hourly = await c.get('/api/v1/trend');
    expect(hourly.body).toMatchObject({ step: '1h', from: new Date(t0 - 30 * 24 * H).toISOString(), to: new Date(t0).toISOString() });
    const points = hourly.body.points.filter((p: any) => Date.parse(p.at) < t0 - 24 * H);
    expect(points.map((p: any) => [p.at, p.failing.high, p.open.pass])).toEqual([
      ['2025-02-27T10:00:00.000Z', 5, 3], ['2025-02-27T23:00:00.000Z', 4, 3], ['2025-02-28T00:00:00.000Z', 3, 3], ['2025-02-28T06:00:00.000Z', 2, 3]]);
    const daily = await c.get('/api/v1/trend?step=1d&since=2025-02-26T00:00:00Z');
    expect(daily.body.step).toBe('1d');
    expect(daily.body.points.slice(0, 2).map((p: any) => [p.at, p.failing.high])).toEqual([
      ['2025-02-27T00:00:00.000Z', 4], ['2025-02-28T00:00:00.000Z', 2]]);
    expect((await c.get('/api/v1/trend?since=2025-02-28T05:00:00Z')).body.points[0].at).toBe('2025-02-28T06:00:00.000Z');
    expect((await c.get('/api/v1/trend?step=1w')).body.parameter).toBe('step');
  });

  it('names the role and baseline of every drift', async () => {
    const drift = (await c.get('/api/v1/correlations?kind=drift')).body.items;
    // Anonymous auth is on at w-1 and w-2 now: w-3 is the odd one (on the secure side).
    const w3 = drift.find((d: any) => d.nodes[0] === 'w-3' && d.evidence[0].checkId === 'cis-4.2.1');
    expect(w3).toMatchObject({ role: 'worker', baseline: { value: true, nodes: 2, of: 3 } });
    expect(drift.every((d: any) => d.role === 'worker' && d.baseline.of === 3)).toBe(true);
  });
});

describe('trend sampling', () => {
  it('samples the open findings at startup into the hour\'s point and keeps 30 days at most, or --retention', async () => {
    const dir = tempDir('trend');
    const store = new SqliteStore(dir.path);
    await store.migrate();
    try {
      const t0 = Date.parse('2025-03-01T12:34:00Z');
      await store.applyBatch([full(report('w-1', [anon(true), authz('AlwaysAllow'), etcd]))], t0);
      const old = { at: t0 - 40 * 24 * H, failing: { critical: 9, high: 0, medium: 0, low: 0, info: 0 }, open: { pass: 0, fail: 9, warn: 0, skip: 0, error: 0 } };
      await store.recordTrend(old);
      await store.recordTrend({ ...old, at: t0 - 10 * 24 * H });
      const engine = { markDirty() {} } as unknown as CorrelationEngine;
      const housekeeping = new Housekeeping(store, engine, pino({ level: 'silent' }), { retentionMs: 365 * 24 * H, now: () => t0 });
      await housekeeping.start();
      await housekeeping.stop();
      const points = await store.trend(0);
      expect(points.map((p) => p.at)).toEqual([t0 - 10 * 24 * H, Date.parse('2025-03-01T12:00:00Z')]);
      expect(points[1].failing).toEqual({ critical: 1, high: 1, medium: 1, low: 0, info: 0 });
      expect(points[1].open).toEqual({ pass: 0, fail: 3, warn: 0, skip: 0, error: 0 });

      const short = new Housekeeping(store, engine, pino({ level: 'silent' }), { retentionMs: 7 * 24 * H, now: () => t0 });
      await short.start();
      await short.stop();
      expect((await store.trend(0)).map((p) => p.at)).toEqual([Date.parse('2025-03-01T12:00:00Z')]);
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
});
