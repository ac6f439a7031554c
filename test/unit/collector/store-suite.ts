// The one Store suite: run against SQLite (unit) and a real PostgreSQL (integration) with the same expectations.
import { beforeEach, afterEach, expect, it } from 'vitest';
import type { ChangeKey, HistoryKey, LifecycleStatus, Store, StoredChanges } from '../../../collector/store/types.js';
import { SCHEMA_VERSION } from '../../../collector/store/migrations.js';
import { finding, full, iso, report, T0 } from './helpers.js';

interface StoreHandle {
  store: Store;
  cleanup(): Promise<void>;
}

const anon = (value: boolean, status: 'pass' | 'fail' = value ? 'fail' : 'pass') =>
  finding({ checkId: 'cis-4.2.1', cis: '4.2.1', status, severity: 'high', value, component: 'kubelet' });
const authz = (value: string) =>
  finding({ checkId: 'cis-4.2.2', cis: '4.2.2', status: value === 'AlwaysAllow' ? 'fail' : 'pass', severity: 'critical', value });
const etcdCert = finding({ checkId: 'cis-2.2', cis: '2.2', status: 'fail', severity: 'high', component: 'etcd', value: false,
  resource: { kind: 'component', component: 'etcd' } });
const podFinding = (pod: string, pss: string, status: 'pass' | 'fail' = 'fail') => finding({
  checkId: `pss-${pss}`, pss, status, severity: 'low', component: 'container',
  resource: { kind: 'container', id: `c-${pod}`, namespace: 'apps', pod, container: 'main' },
  title: `container in pod ${pod}: ${pss}`,
});

export function defineStoreSuite(open: () => Promise<StoreHandle>): void {
  let h: StoreHandle;
  let store: Store;
  beforeEach(async () => { h = await open(); store = h.store; });
  afterEach(async () => { await h.cleanup(); });

  it('migrates idempotently to the current schema version', async () => {
    expect(await store.migrate()).toBe(SCHEMA_VERSION);
    expect(await store.migrate()).toBe(SCHEMA_VERSION);
    await store.ping();
  });

  it('stores a full report: findings with lifecycle times, the node with roles, version and summary', async () => {
    const r = report('w1', [anon(false), authz('Webhook'), podFinding('web', 'privileged')], { roles: ['worker'], scannedAt: iso(T0) });
    const [res] = await store.applyBatch([full(r, 1)], T0 + 500);
    expect(res).toEqual({ applied: true, duplicate: false, lastSeq: 1 });
    const node = await store.node('w1');
    expect(node).toMatchObject({ name: 'w1', roles: ['worker'], agentVersion: '0.1.0', lastReport: T0 + 500, lastScan: T0, lastSeq: 1 });
    expect(node?.summary).toEqual({ pass: 2, fail: 1, warn: 0, skip: 0, error: 0 });
    const page = await store.findings({ sort: 'severity', limit: 10 });
    expect(page.items).toHaveLength(3);
    expect(page.nextAfter).toBeNull();
    expect(page.items.map((i) => i.finding.checkId)).toEqual(['cis-4.2.2', 'cis-4.2.1', 'pss-privileged']);
    for (const item of page.items) {
      expect(item).toMatchObject({ node: 'w1', firstSeen: T0, lastSeen: T0, changedAt: T0, resolvedAt: null });
    }
    expect(page.items[0].finding).toEqual(authz('Webhook'));
    expect(await store.lastSeq('w1')).toBe(1);
    expect(await store.lastSeq('nobody')).toBeUndefined();
  });

  it('resolves findings absent from a later full report, and reopens them when they come back', async () => {
    const a = anon(true);
    const b = authz('AlwaysAllow');
    await store.applyBatch([full(report('w1', [a, b], { scannedAt: iso(T0) }))], T0);
    await store.applyBatch([full(report('w1', [b], { scannedAt: iso(T0 + 1000) }))], T0 + 1000);
    let resolved = await store.findings({ sort: 'severity', limit: 10, status: ['resolved'] });
    expect(resolved.items.map((i) => i.finding.id)).toEqual([a.id]);
    expect(resolved.items[0]).toMatchObject({ resolvedAt: T0 + 1000, lastSeen: T0, firstSeen: T0 });
    const open = await store.findings({ sort: 'severity', limit: 10 });
    expect(open.items.map((i) => i.finding.id)).toEqual([b.id]);
    expect(open.items[0].lastSeen).toBe(T0 + 1000);
    expect((await store.node('w1'))?.summary.fail).toBe(1);

    await store.applyBatch([full(report('w1', [a, b], { scannedAt: iso(T0 + 2000) }))], T0 + 2000);
    resolved = await store.findings({ sort: 'severity', limit: 10, status: ['resolved'] });
    expect(resolved.items).toHaveLength(0);
    const back = await store.findings({ sort: 'severity', limit: 10, check: 'cis-4.2.1' });
    expect(back.items[0]).toMatchObject({ firstSeen: T0, changedAt: T0 + 2000, resolvedAt: null });
    const events = await store.findingEvents('w1', 10, a.id);
    expect(events.map((e) => [e.event, e.status, e.at])).toEqual([['reopened', 'fail', T0 + 2000], ['resolved', 'resolved', T0 + 1000]]);
  });

  it('records status changes in the history and keeps first_seen', async () => {
    await store.applyBatch([full(report('w1', [anon(false)], { scannedAt: iso(T0) }))], T0);
    await store.applyBatch([full(report('w1', [anon(true)], { scannedAt: iso(T0 + 60_000) }))], T0 + 60_000);
    const [item] = (await store.findings({ sort: 'severity', limit: 10 })).items;
    expect(item).toMatchObject({ firstSeen: T0, changedAt: T0 + 60_000 });
    expect(item.finding.status).toBe('fail');
    expect(item.finding.evidence.value).toBe(true);
    const events = await store.findingEvents('w1', 10);
    expect(events).toEqual([{ node: 'w1', findingId: anon(true).id, checkId: 'cis-4.2.1', at: T0 + 60_000, status: 'fail', event: 'changed' }]);
    const scores = await store.nodeScores('w1', 10);
    expect(scores.map((s) => [s.at, s.summary.pass, s.summary.fail])).toEqual([[T0 + 60_000, 0, 1], [T0, 1, 0]]);
  });

  it('an unchanged report writes no history and moves lastSeen', async () => {
    const r0 = report('w1', [anon(false)], { scannedAt: iso(T0) });
    await store.applyBatch([full(r0)], T0);
    await store.applyBatch([full(report('w1', [anon(false)], { scannedAt: iso(T0 + 5000) }))], T0 + 5000);
    expect(await store.findingEvents('w1', 10)).toEqual([]);
    expect(await store.nodeScores('w1', 10)).toHaveLength(1);
    const [item] = (await store.findings({ sort: 'severity', limit: 10 })).items;
    expect(item).toMatchObject({ firstSeen: T0, changedAt: T0, lastSeen: T0 + 5000 });
  });

  it('dedupes by (node, seq): a repeated or older seq changes nothing', async () => {
    await store.applyBatch([full(report('w1', [anon(false)], { scannedAt: iso(T0) }), 5)], T0);
    const dup = await store.applyBatch([
      full(report('w1', [anon(true)], { scannedAt: iso(T0 + 1) }), 5),
      full(report('w1', [anon(true)], { scannedAt: iso(T0 + 2) }), 4),
      full(report('w2', [anon(true)], { scannedAt: iso(T0 + 2) }), 5),
    ], T0 + 10);
    expect(dup).toEqual([
      { applied: false, duplicate: true, lastSeq: 5 },
      { applied: false, duplicate: true, lastSeq: 5 },
      { applied: true, duplicate: false, lastSeq: 5 },
    ]);
    const w1 = await store.findings({ sort: 'severity', limit: 10, node: 'w1' });
    expect(w1.items[0].finding.status).toBe('pass');
    // A message without seq (one-shot HTTP post) is always applied and keeps the stored seq.
    const [oneShot] = await store.applyBatch([full(report('w1', [anon(true)], { scannedAt: iso(T0 + 3) }))], T0 + 20);
    expect(oneShot).toEqual({ applied: true, duplicate: false, lastSeq: 5 });
  });

  it('applies deltas: upserts and resolved ids; a batch applies messages in order', async () => {
    const a = anon(false);
    const b = authz('Webhook');
    await store.applyBatch([
      full(report('w1', [a, b], { scannedAt: iso(T0) }), 1),
      { kind: 'delta', node: 'w1', seq: 2, scannedAt: iso(T0 + 100), upserts: [anon(true)], resolved: [b.id, 'no-such-id'] },
    ], T0 + 100);
    const open = await store.findings({ sort: 'severity', limit: 10 });
    expect(open.items.map((i) => [i.finding.checkId, i.finding.status])).toEqual([['cis-4.2.1', 'fail']]);
    expect((await store.node('w1'))).toMatchObject({ lastSeq: 2, lastScan: T0 + 100, summary: { pass: 0, fail: 1 } });
    const [dup] = await store.applyBatch([{ kind: 'delta', node: 'w1', seq: 2, scannedAt: iso(T0 + 200), upserts: [a], resolved: [] }], T0 + 200);
    expect(dup.duplicate).toBe(true);
  });

  it('a delta for a node never seen creates it without roles', async () => {
    await store.applyBatch([{ kind: 'delta', node: 'new', seq: 1, scannedAt: iso(T0), upserts: [anon(true)], resolved: [] }], T0);
    expect(await store.node('new')).toMatchObject({ roles: [], lastSeq: 1, summary: { fail: 1 } });
  });

  it('filters findings by every field and pages with a stable cursor', async () => {
    const nodes = ['a', 'b', 'c'];
    for (const [i, n] of nodes.entries()) {
      await store.applyBatch([full(report(n, [
        anon(n === 'b'), authz(n === 'c' ? 'AlwaysAllow' : 'Webhook'), etcdCert,
        podFinding(`web-${n}`, 'privileged'), podFinding(`db-${n}`, 'hostPathVolumes', 'pass'),
      ], { roles: n === 'a' ? ['control-plane'] : ['worker'], scannedAt: iso(T0 + i * 1000) }))], T0 + i * 1000);
    }
    const ids = async (q: Partial<Parameters<Store['findings']>[0]>): Promise<string[]> =>
      (await store.findings({ sort: 'severity', limit: 100, ...q })).items.map((i) => `${i.node}/${i.finding.checkId}`).sort();
    expect(await ids({ node: 'b' })).toHaveLength(5);
    expect(await ids({ status: ['fail'], check: 'cis-4.2.1' })).toEqual(['b/cis-4.2.1']);
    expect(await ids({ severity: ['critical'], status: ['fail'] })).toEqual(['c/cis-4.2.2']);
    expect(await ids({ cis: '4.2' })).toHaveLength(6);
    expect(await ids({ cis: '4.2.1' })).toHaveLength(3);
    expect(await ids({ cis: '4' })).toHaveLength(6);
    expect(await ids({ component: 'etcd' })).toEqual(['a/cis-2.2', 'b/cis-2.2', 'c/cis-2.2']);
    expect(await ids({ namespace: 'apps', pod: 'db-c' })).toEqual(['c/pss-hostPathVolumes']);
    expect(await ids({ namespace: 'other' })).toEqual([]);
    expect(await ids({ since: T0 + 1000 })).toHaveLength(10);
    expect(await ids({ q: 'POD WEB-A' })).toEqual(['a/pss-privileged']);
    expect(await ids({ q: "%' OR 1=1 --" })).toEqual([]);
    expect(await ids({ node: "a' OR '1'='1" })).toEqual([]);
    expect(await ids({ status: ['pass', 'warn'] })).toHaveLength(7);

    for (const sort of ['severity', 'recent', 'node'] as const) {
      const all = await store.findings({ sort, limit: 100 });
      expect(all.items).toHaveLength(15);
      const seen: string[] = [];
      let after: unknown[] | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.findings({ sort, limit: 4, after });
        seen.push(...page.items.map((i) => `${i.node}/${i.finding.id}`));
        if (!page.nextAfter) break;
        after = page.nextAfter;
      }
      expect(seen).toEqual(all.items.map((i) => `${i.node}/${i.finding.id}`));
    }
    const bySeverity = (await store.findings({ sort: 'severity', limit: 100 })).items;
    const ranks = bySeverity.map((i) => ['info', 'low', 'medium', 'high', 'critical'].indexOf(i.finding.severity));
    expect(ranks).toEqual([...ranks].sort((x, y) => y - x));
    const recent = (await store.findings({ sort: 'recent', limit: 100 })).items.map((i) => i.changedAt);
    expect(recent).toEqual([...recent].sort((x, y) => y - x));
  });

  it('orders problems first (fail, error, warn, pass, skip; then severity, then recency) and pages through that order', async () => {
    const statuses = ['skip', 'pass', 'warn', 'error', 'fail'] as const;
    const severities = ['critical', 'low', 'high', 'info', 'medium'] as const;
    for (const [n, node] of ['p1', 'p2', 'p3'].entries()) {
      const findings = Array.from({ length: 25 }, (_, i) => finding({ checkId: `chk-${i % 5}`, status: statuses[(i + n) % 5],
        severity: severities[Math.floor(i / 5)], resource: { kind: 'file', path: `/etc/f-${i}` } }));
      await store.applyBatch([full(report(node, findings, { scannedAt: iso(T0 + n * 1000) }))], T0 + n * 1000);
    }
    const statusRank = { fail: 4, error: 3, warn: 2, pass: 1, skip: 0 };
    const sevRank = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
    const key = (i: { finding: { status: keyof typeof statusRank; severity: keyof typeof sevRank }; changedAt: number }): number[] =>
      [statusRank[i.finding.status], sevRank[i.finding.severity], i.changedAt];
    const notAfter = (a: number[], b: number[]): boolean => {
      const k = a.findIndex((v, j) => v !== b[j]);
      return k < 0 || a[k] > b[k];
    };
    const descending = (items: Array<Parameters<typeof key>[0]>): boolean =>
      items.every((item, i) => i === 0 || notAfter(key(items[i - 1]), key(item)));
    for (const q of [{}, { check: 'chk-2' }, { component: 'kubelet' }, { status: ['warn', 'skip', 'fail'] as LifecycleStatus[] }, { node: 'p2' }]) {
      const all = (await store.findings({ sort: 'problems', limit: 1000, ...q })).items;
      expect(all.length, JSON.stringify(q)).toBeGreaterThan(0);
      expect(descending(all), JSON.stringify(q)).toBe(true);
      const seen: string[] = [];
      let after: unknown[] | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await store.findings({ sort: 'problems', limit: 4, after, ...q });
        seen.push(...page.items.map((i) => `${i.node}/${i.finding.id}`));
        if (!page.nextAfter) break;
        after = page.nextAfter;
      }
      expect(seen, JSON.stringify(q)).toEqual(all.map((i) => `${i.node}/${i.finding.id}`));
    }
    const first = (await store.findings({ sort: 'problems', limit: 15 })).items;
    expect(first.map((i) => i.finding.status)).toEqual(Array(15).fill('fail'));
    expect(first[0].finding.severity).toBe('critical');
    const last = (await store.findings({ sort: 'problems', limit: 1000 })).items.slice(-15);
    expect(last.every((i) => i.finding.status === 'skip')).toBe(true);
  });

  it('lists nodes by role and report time with a cursor; counts checks across nodes', async () => {
    for (const [i, n] of ['n1', 'n2', 'n3', 'n4'].entries()) {
      await store.applyBatch([full(report(n, [anon(i % 2 === 0)], { roles: i === 0 ? ['control-plane', 'worker'] : ['worker'], scannedAt: iso(T0) }))], T0 + i * 1000);
    }
    const names = async (q: Partial<Parameters<Store['nodes']>[0]>): Promise<string[]> =>
      (await store.nodes({ limit: 100, ...q })).items.map((n) => n.name);
    expect(await names({})).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(await names({ role: 'control-plane' })).toEqual(['n1']);
    expect(await names({ role: 'work' })).toEqual([]);
    expect(await names({ reportedBefore: T0 + 2000 })).toEqual(['n1', 'n2']);
    expect(await names({ reportedSince: T0 + 2000 })).toEqual(['n3', 'n4']);
    const p1 = await store.nodes({ limit: 3 });
    expect(p1.items.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    const p2 = await store.nodes({ limit: 3, after: p1.nextAfter?.[0] as string });
    expect(p2.items.map((n) => n.name)).toEqual(['n4']);
    expect(p2.nextAfter).toBeNull();
    expect((await store.allNodes()).map((n) => n.name)).toEqual(['n1', 'n2', 'n3', 'n4']);

    const checks = await store.checks();
    expect(checks).toEqual([{ checkId: 'cis-4.2.1', cis: '4.2.1', title: 'check cis-4.2.1', component: 'kubelet', severity: 'high',
      counts: { pass: 2, fail: 2, warn: 0, skip: 0, error: 0 } }]);
    expect(await store.openCounts()).toEqual(expect.arrayContaining([
      { status: 'pass', severity: 'high', n: 2 }, { status: 'fail', severity: 'high', n: 2 }]));
    await store.applyBatch([full(report('n1', [], { scannedAt: iso(T0 + 9000) }))], T0 + 9000);
    expect((await store.checks())[0].counts).toMatchObject({ pass: 2, fail: 1 });
    expect(await store.openCounts()).toHaveLength(2);
    await store.applyBatch([full(report('n2', [], { scannedAt: iso(T0 + 9000) })), full(report('n4', [], { scannedAt: iso(T0 + 9000) }))], T0 + 9000);
    expect(await store.openCounts()).toEqual([{ status: 'fail', severity: 'high', n: 1 }]);
  });

  it('serves settings and facts for correlation', async () => {
    await store.applyBatch([full(report('w1', [anon(true), etcdCert, podFinding('p', 'privileged'),
      finding({ checkId: 'port-listen', component: 'node', resource: { kind: 'port', protocol: 'tcp', address: '0.0.0.0', port: 10250 } })]))], T0);
    const settings = await store.settings(['component']);
    expect(settings.map((s) => [s.checkId, s.valueKey]).sort()).toEqual([['cis-2.2', 'false'], ['cis-4.2.1', 'true']]);
    const facts = await store.facts([{ checkIds: ['cis-2.2'] }, { checkIdPrefixes: ['port-'] }, { resourceKinds: ['container'] }]);
    expect(facts.map((f) => f.finding.checkId).sort()).toEqual(['cis-2.2', 'port-listen', 'pss-privileged']);
    expect(await store.facts([])).toEqual([]);
    expect(await store.facts([{}])).toEqual([]);
    expect((await store.facts([{ evidenceKeys: ['cis-4.2.1'] }])).map((f) => f.finding.checkId)).toEqual(['cis-4.2.1']);
    expect((await store.facts([{ pss: ['privileged'], resourceKinds: ['container'] }])).map((f) => f.finding.checkId)).toEqual(['pss-privileged']);
    expect(await store.facts([{ pss: ['privileged'], excludeStatus: ['fail'] }])).toEqual([]);
    expect((await store.facts([{ resourceKinds: ['component'], excludeStatus: ['pass'] }])).map((f) => f.finding.checkId).sort())
      .toEqual(['cis-2.2', 'cis-4.2.1']);
  });

  it('purges findings resolved before the retention horizon, with their history', async () => {
    await store.applyBatch([full(report('w1', [anon(true), authz('Webhook')], { scannedAt: iso(T0) }))], T0);
    await store.applyBatch([full(report('w1', [authz('Webhook')], { scannedAt: iso(T0 + 1000) }))], T0 + 1000);
    expect(await store.purgeResolved(T0 + 500)).toBe(0);
    expect(await store.purgeResolved(T0 + 1001)).toBe(1);
    expect((await store.findings({ sort: 'severity', limit: 10, status: ['resolved'] })).items).toEqual([]);
    expect(await store.findingEvents('w1', 10)).toEqual([]);
    expect((await store.findings({ sort: 'severity', limit: 10 })).items).toHaveLength(1);
  });

  it('keeps cluster score history', async () => {
    await store.recordClusterScore(T0, { passRate: 0.5 });
    await store.recordClusterScore(T0 + 1, { passRate: 0.75 });
    expect(await store.clusterScores(10)).toEqual([{ at: T0 + 1, score: { passRate: 0.75 } }, { at: T0, score: { passRate: 0.5 } }]);
  });

  it('keeps each node\'s open failures by severity', async () => {
    await store.applyBatch([full(report('w1', [anon(true), authz('AlwaysAllow'), etcdCert, podFinding('p', 'privileged', 'pass')],
      { scannedAt: iso(T0) }))], T0);
    expect((await store.node('w1'))?.failingBySeverity).toEqual({ critical: 1, high: 2, medium: 0, low: 0, info: 0 });
    await store.applyBatch([full(report('w1', [anon(false), authz('AlwaysAllow'), podFinding('p', 'privileged')], { scannedAt: iso(T0 + 1000) }))], T0 + 1000);
    const [listed] = (await store.nodes({ limit: 10 })).items;
    expect(listed.failingBySeverity).toEqual({ critical: 1, high: 0, medium: 0, low: 1, info: 0 });
    expect((await store.allNodes())[0].failingBySeverity).toEqual(listed.failingBySeverity);
  });

  it('a delta keeps the node\'s counts (by status, failures by severity) from its stored ones, and its change feed', async () => {
    const heard: StoredChanges[] = [];
    store.observe((c) => heard.push(c));
    const f = (n: number, status: 'pass' | 'fail' | 'warn', severity: 'critical' | 'high' | 'medium' | 'low' | 'info') =>
      finding({ checkId: `chk-${n}`, status, severity, resource: { kind: 'file', path: `/etc/f-${n}` } });
    // What the node's open findings say, counted from the findings themselves.
    const recount = async () => {
      const open = (await store.findings({ node: 'w1', sort: 'node', limit: 1000 })).items;
      const summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
      const failing = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
      for (const { finding: x } of open) {
        summary[x.status]++;
        if (x.status === 'fail') failing[x.severity]++;
      }
      return { summary, failingBySeverity: failing };
    };
    await store.applyBatch([full(report('w1', [f(1, 'fail', 'high'), f(2, 'fail', 'medium'), f(3, 'pass', 'low'), f(4, 'warn', 'info'),
      f(5, 'fail', 'low')], { scannedAt: iso(T0) }), 1)], T0);
    const deltas = [
      // A failure's severity changes; a failure passes; a pass fails.
      { upserts: [f(1, 'fail', 'critical'), f(2, 'pass', 'medium'), f(3, 'fail', 'low')], resolved: [] },
      // A failure resolved, a new one, an unknown id, an unchanged open failure sent again.
      { upserts: [f(6, 'fail', 'info'), f(1, 'fail', 'critical')], resolved: [f(5, 'fail', 'low').id, 'no-such-id'] },
      // Resolved again (already resolved), and reopened in the same delta as a new resolution.
      { upserts: [f(5, 'fail', 'high')], resolved: [f(5, 'fail', 'low').id, f(4, 'warn', 'info').id] },
    ];
    for (const [i, d] of deltas.entries()) {
      await store.applyBatch([{ kind: 'delta', node: 'w1', seq: i + 2, scannedAt: iso(T0 + (i + 1) * 1000), ...d }], T0 + (i + 1) * 1000);
      const counted = await recount();
      expect(await store.node('w1'), `after delta ${i + 1}`).toMatchObject(counted);
      expect((await store.nodes({ limit: 10 })).items[0]).toMatchObject(counted);
    }
    expect((await store.node('w1'))?.failingBySeverity).toEqual({ critical: 1, high: 1, medium: 0, low: 1, info: 1 });
    // The cluster's counts (what the trend samples) agree with the node's.
    const failing = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
    for (const c of await store.openCounts()) if (c.status === 'fail') failing[c.severity] += Number(c.n);
    expect(failing).toEqual((await store.node('w1'))?.failingBySeverity);
    expect(heard.slice(1)).toEqual([
      { nodes: ['w1'], truncated: false, opened: 0, changed: 3, resolved: 0 },
      { nodes: ['w1'], truncated: false, opened: 1, changed: 0, resolved: 1 },
      { nodes: ['w1'], truncated: false, opened: 1, changed: 0, resolved: 1 },
    ]);
    const feed = (await store.changes({ since: T0 + 1, node: 'w1', limit: 100 })).items.map((c) => [c.at - T0, c.checkId, c.event, c.status]);
    expect(feed).toEqual(expect.arrayContaining([
      [1000, 'chk-2', 'changed', 'pass'], [1000, 'chk-3', 'changed', 'fail'], [2000, 'chk-5', 'resolved', 'resolved'],
      [2000, 'chk-6', 'new', 'fail'], [3000, 'chk-5', 'reopened', 'fail'], [3000, 'chk-4', 'resolved', 'resolved'],
    ]));
    expect(feed).toHaveLength(6);
  });

  it('tells its observers what each committed transaction changed, and nothing when nothing did', async () => {
    const heard: StoredChanges[] = [];
    store.observe((c) => heard.push(c));
    await store.applyBatch([full(report('w1', [anon(false), authz('Webhook')], { scannedAt: iso(T0) }), 1),
      full(report('w2', [], { scannedAt: iso(T0) }), 1)], T0);
    expect(heard).toEqual([{ nodes: ['w1', 'w2'], truncated: false, opened: 2, changed: 0, resolved: 0 }]);
    // The same findings again: stored (lastSeen moves) but nothing changed.
    await store.applyBatch([full(report('w1', [anon(false), authz('Webhook')], { scannedAt: iso(T0 + 1000) }), 2)], T0 + 1000);
    await store.applyBatch([full(report('w1', [anon(false), authz('Webhook')], { scannedAt: iso(T0 + 1000) }), 2)], T0 + 1000);
    expect(heard).toHaveLength(1);
    await store.applyBatch([{ kind: 'delta', node: 'w1', seq: 3, scannedAt: iso(T0 + 2000), upserts: [anon(true)], resolved: [authz('Webhook').id] }], T0 + 2000);
    expect(heard[1]).toEqual({ nodes: ['w1'], truncated: false, opened: 0, changed: 1, resolved: 1 });
    await store.applyBatch([full(report('w1', [anon(true), authz('Webhook')], { scannedAt: iso(T0 + 3000) }), 4)], T0 + 3000);
    expect(heard[2]).toMatchObject({ opened: 1, changed: 0, resolved: 0 });
    // Many nodes at once: at most 100 named.
    await store.applyBatch(Array.from({ length: 120 }, (_, i) => full(report(`n${i}`, [anon(true)], { scannedAt: iso(T0) }))), T0 + 4000);
    expect(heard[3].nodes).toHaveLength(100);
    expect(heard[3]).toMatchObject({ truncated: true, opened: 120 });
  });

  it('keeps one trend point per hour, the last sample of the hour, and prunes old ones', async () => {
    const H = 3_600_000;
    const sample = (at: number, critical: number) => ({
      at, failing: { critical, high: 1, medium: 0, low: 0, info: 0 }, open: { pass: 5, fail: critical + 1, warn: 0, skip: 0, error: 0 } });
    await store.recordTrend(sample(T0, 3));
    await store.recordTrend(sample(T0 + H, 2));
    await store.recordTrend(sample(T0 + H, 1));
    await store.recordTrend(sample(T0 + 2 * H, 0));
    expect(await store.trend(T0 + 30 * 60_000)).toEqual([sample(T0, 3), sample(T0 + H, 1), sample(T0 + 2 * H, 0)]);
    expect((await store.trend(T0 + 2 * H)).map((p) => p.at)).toEqual([T0 + 2 * H]);
    await store.pruneTrend(T0 + H);
    expect((await store.trend(0)).map((p) => p.at)).toEqual([T0 + H, T0 + 2 * H]);
  });

  it('lists changes across the cluster newest first: first statuses and events, by node, paged', async () => {
    const a = anon(false);
    const b = authz('Webhook');
    await store.applyBatch([full(report('w1', [a, b], { scannedAt: iso(T0) }))], T0);
    await store.applyBatch([full(report('w2', [a], { scannedAt: iso(T0 + 1000) }))], T0 + 1000);
    await store.applyBatch([full(report('w1', [anon(true)], { scannedAt: iso(T0 + 2000) }))], T0 + 2000);
    await store.applyBatch([full(report('w1', [anon(true), b], { scannedAt: iso(T0 + 3000) }))], T0 + 3000);
    const all = await store.changes({ since: T0, limit: 100 });
    const seen = all.items.map((c) => [c.at - T0, c.node, c.checkId, c.event, c.status]);
    expect(seen).toEqual([
      [3000, 'w1', 'cis-4.2.2', 'reopened', 'pass'],
      [2000, 'w1', 'cis-4.2.2', 'resolved', 'resolved'],
      [2000, 'w1', 'cis-4.2.1', 'changed', 'fail'],
      [1000, 'w2', 'cis-4.2.1', 'new', 'pass'],
      [0, 'w1', 'cis-4.2.2', 'new', 'pass'],
      [0, 'w1', 'cis-4.2.1', 'new', 'pass'],
    ]);
    expect(all.items[0].finding).toEqual(b);
    expect(all.nextAfter).toBeNull();
    expect((await store.changes({ since: T0 + 1500, limit: 100 })).items).toHaveLength(3);
    expect((await store.changes({ since: T0, node: 'w2', limit: 100 })).items.map((c) => c.event)).toEqual(['new']);
    const paged: string[] = [];
    let after: ChangeKey | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await store.changes({ since: T0, limit: 2, after });
      paged.push(...page.items.map((c) => `${c.at}/${c.node}/${c.findingId}/${c.event}`));
      if (!page.nextAfter) break;
      after = page.nextAfter as ChangeKey;
    }
    expect(paged).toEqual(all.items.map((c) => `${c.at}/${c.node}/${c.findingId}/${c.event}`));
  });

  it('gives a node\'s history: when each finding last started failing, when it was resolved, its events', async () => {
    const H = 3_600_000;
    const ports = finding({ checkId: 'port-x', status: 'pass', severity: 'low', component: 'node',
      resource: { kind: 'port', protocol: 'tcp', address: '0.0.0.0', port: 1 } });
    await store.applyBatch([full(report('w1', [anon(true), authz('Webhook'), etcdCert, ports], { scannedAt: iso(T0) }))], T0);
    await store.applyBatch([full(report('w1', [anon(false), authz('AlwaysAllow'), etcdCert], { scannedAt: iso(T0 + H) }))], T0 + H);
    await store.applyBatch([full(report('w1', [anon(true), authz('AlwaysAllow')], { scannedAt: iso(T0 + 2 * H) }))], T0 + 2 * H);
    const all = await store.nodeHistory('w1', { since: T0, limit: 100 });
    const rows = all.items.map((h) => [h.finding.checkId, h.status, h.openedAt && h.openedAt - T0, h.resolvedAt && h.resolvedAt - T0,
      h.events.map((e) => `${e.event}:${e.status}`).join(' ')]);
    // Most recent activity first (cis-4.2.2 and port-x both last moved at T0 + H).
    expect(rows.slice(0, 2)).toEqual([
      ['cis-4.2.1', 'fail', 2 * H, null, 'changed:fail changed:pass new:fail'],
      ['cis-2.2', 'resolved', 0, 2 * H, 'resolved:resolved new:fail'],
    ]);
    expect(rows.slice(2)).toEqual(expect.arrayContaining([
      ['cis-4.2.2', 'fail', H, null, 'changed:fail new:pass'],
      ['port-x', 'resolved', null, H, 'resolved:resolved new:pass'],
    ]));
    expect(all.items.map((h) => h.activity - T0)).toEqual([2 * H, 2 * H, H, H]);
    // A window after the first report: a finding failing since before it is listed (failing now) without older events.
    const later = await store.nodeHistory('w1', { since: T0 + 90 * 60_000, limit: 100 });
    expect(later.items.map((h) => [h.finding.checkId, h.events.length])).toEqual([['cis-4.2.1', 1], ['cis-2.2', 1], ['cis-4.2.2', 0]]);
    const paged: string[] = [];
    let after: HistoryKey | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await store.nodeHistory('w1', { since: T0, limit: 3, after });
      paged.push(...page.items.map((h) => h.finding.id));
      if (!page.nextAfter) break;
      after = page.nextAfter as HistoryKey;
    }
    expect(paged).toEqual(all.items.map((h) => h.finding.id));
    expect((await store.nodeHistory('nobody', { since: T0, limit: 10 })).items).toEqual([]);
  });
}
