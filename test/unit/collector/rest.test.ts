import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeOptions } from '../../../collector/app/options.js';
import { finding, report } from './helpers.js';
import { BOTH, READ, REPORT, startTestCollector, type TestCollector } from './collector-harness.js';

const anon = (v: boolean) => finding({ checkId: 'cis-4.2.1', cis: '4.2.1', severity: 'high', value: v, status: v ? 'fail' : 'pass' });
const authz = (v: string) => finding({ checkId: 'cis-4.2.2', cis: '4.2.2', severity: 'critical', value: v, status: v === 'AlwaysAllow' ? 'fail' : 'pass' });
const etcd = finding({ checkId: 'cis-2.2', cis: '2.2', component: 'etcd', status: 'fail', severity: 'high', value: false,
  resource: { kind: 'component', component: 'etcd' } });
const pod = (name: string, status: 'pass' | 'fail') => finding({ checkId: 'container-privileged', pss: 'privileged', component: 'container',
  status, severity: 'critical', value: status === 'fail', title: `privileged container in ${name}`,
  resource: { kind: 'container', id: `id-${name}`, namespace: 'apps', pod: name, container: 'main' } });

describe('REST API', () => {
  let c: TestCollector;
  const t0 = Date.parse('2025-03-01T00:00:00Z');

  beforeAll(async () => {
    c = await startTestCollector();
    c.clock.now = t0;
    const reports = [
      report('cp-1', [anon(false), authz('Webhook'), etcd], { roles: ['control-plane'], scannedAt: new Date(t0 - 3000) }),
      report('w-1', [anon(false), authz('Webhook'), pod('web', 'pass')], { roles: ['worker'], scannedAt: new Date(t0 - 2000) }),
      report('w-2', [anon(true), authz('AlwaysAllow'), pod('ci', 'fail')], { roles: ['worker'], scannedAt: new Date(t0 - 1000) }),
    ];
    for (const r of reports) expect((await c.post('/api/v1/reports', r)).status).toBe(200);
  });
  afterAll(async () => { await c?.stop(); });

  describe('auth', () => {
    it('401 without or with an unknown token, 403 with the wrong role; health and OpenAPI are open', async () => {
      const none = await c.get('/api/v1/findings', '');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await c.get('/api/v1/findings', 'not-a-token-of-ours-at-all')).status).toBe(401);
      expect((await c.get('/api/v1/findings', REPORT)).status).toBe(403);
      expect((await c.post('/api/v1/reports', report('x', [anon(true)]), READ)).status).toBe(403);
      expect((await c.post('/api/v1/reports', report('x', [anon(true)]), '')).status).toBe(401);
      expect((await c.get('/metrics', '')).status).toBe(401);
      expect((await c.get('/healthz', '')).body).toEqual({ status: 'ok' });
      expect((await c.get('/readyz', '')).body).toEqual({ status: 'ready', store: 'sqlite' });
      expect((await c.get('/api/v1/openapi.json', '')).status).toBe(200);
      expect((await c.get('/api/v1/findings', BOTH)).status).toBe(200);
      expect((await c.get('/api/v1/nodes/x', '')).status).toBe(401);
    });

    it('--no-auth is refused unless the listen address is loopback', () => {
      const raw = { dataDir: '/tmp/x', httpListen: '0.0.0.0:8080', auth: false, retention: '30d', reportInterval: '5m',
        maxReportSize: '32mb', correlateInterval: '5s', logLevel: 'info', sqliteSync: 'FULL' };
      expect(() => resolveServeOptions(raw)).toThrow(/only allowed on a loopback/);
      expect(resolveServeOptions({ ...raw, httpListen: '127.0.0.1:8080' }).tokens).toBeUndefined();
      expect(resolveServeOptions({ ...raw, httpListen: '[::1]:8080' }).http).toEqual({ host: '::1', port: 8080 });
      expect(() => resolveServeOptions({ ...raw, httpListen: '127.0.0.1:8080', auth: true })).toThrow(/--tokens FILE is required/);
      expect(() => resolveServeOptions({ ...raw, httpListen: '127.0.0.1:8080', retention: '30 days' })).toThrow(/--retention/);
    });
  });

  describe('POST /api/v1/reports', () => {
    it('rejects bad documents with a 400 that says what is wrong, and stores nothing', async () => {
      const before = await c.get('/api/v1/findings?limit=1000');
      const good = report('w-1', [anon(true)]);
      const cases: Array<[unknown, RegExp, string?]> = [
        [{ ...good, findings: undefined }, /findings/],
        [{ ...good, schemaVersion: 2 }, /schemaVersion/],
        [{ ...good, findings: [{ ...anon(true), status: 'bad' }] }, /findings\.0\.status/],
        [{ ...good, node: { ...good.node, name: '' } }, /node\.name/],
        [{ ...good, scannedAt: 'yesterday' }, /scannedAt/],
        ['{"schemaVersion": 1, "node": ', /JSON/i],
        ['[]', /expected object/i],
      ];
      for (const [body, message] of cases) {
        const res = await c.post('/api/v1/reports', body);
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.message).toMatch(message);
      }
      const wrongType = await c.post('/api/v1/reports', JSON.stringify(good), REPORT, 'text/plain');
      expect(wrongType.status).toBe(415);
      const huge = report('w-1', Array.from({ length: 3000 }, (_, i) => finding({ checkId: `big-${i}`, remediation: 'x'.repeat(500) })));
      expect((await c.post('/api/v1/reports', huge)).status).toBe(413);
      expect((await c.get('/api/v1/findings?limit=1000')).body).toEqual(before.body);
    });

    it('reports what it stored', async () => {
      const res = await c.post('/api/v1/reports', report('tmp', [anon(false)], { roles: ['batch'], scannedAt: new Date(t0 - 500) }));
      expect(res.body).toEqual({ applied: true, duplicate: false, node: 'tmp', findings: 1 });
      const again = await c.post('/api/v1/reports', report('tmp', [], { roles: ['batch'], scannedAt: new Date(t0 - 400) }));
      expect(again.status).toBe(200);
      const gone = await c.get('/api/v1/findings?node=tmp&status=resolved');
      expect(gone.body.items.map((f: any) => f.checkId)).toEqual(['cis-4.2.1']);
      expect(gone.body.items[0].resolvedAt).toBe(new Date(t0 - 400).toISOString());
    });
  });

  describe('GET /api/v1/findings', () => {
    const ids = async (qs: string): Promise<string[]> => {
      const res = await c.get(`/api/v1/findings?${qs}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.items.map((f: any) => `${f.node}/${f.checkId}`).sort();
    };

    it('returns findings with node and lifecycle times, most severe first', async () => {
      const res = await c.get('/api/v1/findings?node=w-2');
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items.map((f: any) => f.checkId)).toEqual(['container-privileged', 'cis-4.2.2', 'cis-4.2.1']);
      expect(res.body.items[0]).toMatchObject({ node: 'w-2', status: 'fail', firstSeen: new Date(t0 - 1000).toISOString(),
        lastSeen: new Date(t0 - 1000).toISOString(), resolvedAt: null, resource: { kind: 'container', pod: 'ci' } });
    });

    it('filters by every parameter', async () => {
      expect(await ids('node=cp-1')).toEqual(['cp-1/cis-2.2', 'cp-1/cis-4.2.1', 'cp-1/cis-4.2.2']);
      expect(await ids('status=fail')).toEqual(['cp-1/cis-2.2', 'w-2/cis-4.2.1', 'w-2/cis-4.2.2', 'w-2/container-privileged']);
      expect(await ids('status=fail&severity=critical')).toEqual(['w-2/cis-4.2.2', 'w-2/container-privileged']);
      expect(await ids('severity=high,critical&node=w-1')).toEqual(['w-1/cis-4.2.1', 'w-1/cis-4.2.2', 'w-1/container-privileged']);
      expect(await ids('check=cis-4.2.1&status=fail')).toEqual(['w-2/cis-4.2.1']);
      expect(await ids('cis=4.2&node=w-1')).toEqual(['w-1/cis-4.2.1', 'w-1/cis-4.2.2']);
      expect(await ids('cis=2')).toEqual(['cp-1/cis-2.2']);
      expect(await ids('component=etcd')).toEqual(['cp-1/cis-2.2']);
      expect(await ids('namespace=apps')).toEqual(['w-1/container-privileged', 'w-2/container-privileged']);
      expect(await ids('namespace=apps&pod=ci')).toEqual(['w-2/container-privileged']);
      expect(await ids(`since=${encodeURIComponent(new Date(t0 - 1500).toISOString())}&node=w-2`)).toHaveLength(3);
      expect(await ids(`since=${encodeURIComponent(new Date(t0 - 1500).toISOString())}&node=w-1`)).toEqual([]);
      expect(await ids('since=2s&node=w-2')).toHaveLength(3);
      expect(await ids('q=PRIVILEGED%20container%20in%20ci')).toEqual(['w-2/container-privileged']);
      expect(await ids('q=%25%27%20OR%201%3D1')).toEqual([]);
      expect(await ids('status=resolved&node=w-1')).toEqual([]);
    });

    it('pages with an opaque cursor in every sort order', async () => {
      for (const sort of ['severity', 'recent', 'node']) {
        const all = (await c.get(`/api/v1/findings?sort=${sort}&limit=1000`)).body.items.map((f: any) => `${f.node}/${f.id}`);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const res: any = await c.get(`/api/v1/findings?sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          expect(res.status).toBe(200);
          seen.push(...res.body.items.map((f: any) => `${f.node}/${f.id}`));
          cursor = res.body.nextCursor;
        } while (cursor);
        expect(seen).toEqual(all);
        expect(all.length).toBeGreaterThanOrEqual(9);
      }
      const first = await c.get('/api/v1/findings?sort=severity&limit=2');
      const mismatch = await c.get(`/api/v1/findings?sort=recent&cursor=${first.body.nextCursor}`);
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.parameter).toBe('cursor');
    });

    it('answers a bad parameter with a 400 naming it', async () => {
      const bad: Array<[string, string]> = [
        ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=ten', 'limit'], ['status=broken', 'status'],
        ['severity=urgent', 'severity'], ['sort=random', 'sort'], ['since=last-week', 'since'], ['cis=4.x', 'cis'],
        ['cursor=!!!', 'cursor'], ['cursor=eyJzIjoic2V2ZXJpdHkiLCJrIjpbMV19', 'cursor'], ['nodes=a', 'nodes'],
        ['node=a&node=b', 'node'], [`q=${'x'.repeat(201)}`, 'q'], ['check=', 'check'],
        ['component=' + 'c'.repeat(65), 'component'], ['namespace=', 'namespace'], ['pod=', 'pod'],
      ];
      for (const [qs, param] of bad) {
        const res = await c.get(`/api/v1/findings?${qs}`);
        expect(res.status, qs).toBe(400);
        expect(res.body.parameter, qs).toBe(param);
        expect(res.body.message).toContain(`"${param}"`);
      }
    });
  });

  describe('nodes, checks, correlations, summary', () => {
    it('lists nodes with status, filters by role and status, pages', async () => {
      const res = await c.get('/api/v1/nodes');
      expect(res.body.items.map((n: any) => n.name)).toEqual(['cp-1', 'tmp', 'w-1', 'w-2']);
      expect(res.body.items[0]).toMatchObject({ roles: ['control-plane'], agentVersion: '0.1.0', status: 'reporting',
        summary: { pass: 2, fail: 1 }, lastReport: new Date(t0).toISOString() });
      expect((await c.get('/api/v1/nodes?role=worker')).body.items.map((n: any) => n.name)).toEqual(['w-1', 'w-2']);
      const page = await c.get('/api/v1/nodes?limit=3');
      expect(page.body.items).toHaveLength(3);
      const rest = await c.get(`/api/v1/nodes?limit=3&cursor=${page.body.nextCursor}`);
      expect(rest.body.items.map((n: any) => n.name)).toEqual(['w-2']);
      expect((await c.get('/api/v1/nodes?status=asleep')).body.parameter).toBe('status');
      expect((await c.get('/api/v1/nodes?limit=0')).status).toBe(400);
    });

    it('returns one node with current findings and history; 404 for unknown nodes', async () => {
      const res = await c.get('/api/v1/nodes/w-2');
      expect(res.body).toMatchObject({ name: 'w-2', status: 'reporting', info: { kernel: '6.1.0' } });
      expect(res.body.findings.map((f: any) => f.checkId)).toEqual(['container-privileged', 'cis-4.2.2', 'cis-4.2.1']);
      expect(res.body.history.scores).toHaveLength(1);
      const tmp = await c.get('/api/v1/nodes/tmp');
      expect(tmp.body.history.events.map((e: any) => e.event)).toEqual(['resolved']);
      expect((await c.get('/api/v1/nodes/nope')).status).toBe(404);
      expect((await c.get('/api/v1/nodes/w-2?history=0')).body.parameter).toBe('history');
    });

    it('counts checks across nodes', async () => {
      const res = await c.get('/api/v1/checks');
      const anonCheck = res.body.items.find((i: any) => i.checkId === 'cis-4.2.1');
      expect(anonCheck).toMatchObject({ cis: '4.2.1', counts: { pass: 2, fail: 1 }, passRate: 0.6667 });
      expect((await c.get('/api/v1/checks?component=etcd')).body.items.map((i: any) => i.checkId)).toEqual(['cis-2.2']);
      expect((await c.get('/api/v1/checks?cis=4')).body.items.map((i: any) => i.checkId)).toEqual(['cis-4.2.1', 'cis-4.2.2']);
    });

    it('shows drift between the workers and filters correlations', async () => {
      const res = await c.get('/api/v1/correlations?kind=drift');
      expect(res.status).toBe(200);
      const w2 = res.body.items.filter((i: any) => i.nodes.includes('w-2'));
      expect(w2.map((i: any) => i.evidence[0].checkId).sort()).toEqual(['cis-4.2.1', 'cis-4.2.2']);
      expect(res.body.items.every((i: any) => i.kind === 'drift')).toBe(true);
      expect((await c.get('/api/v1/correlations?node=cp-1&kind=drift')).body.items).toEqual([]);
      expect((await c.get('/api/v1/correlations?kind=bogus')).body.parameter).toBe('kind');
      expect((await c.get('/api/v1/correlations/rules')).body.items.map((r: any) => r.id)).toContain('kubelet-unauthenticated-exec');
    });

    it('turns a node silent after 3 intervals without a report', async () => {
      c.clock.now = t0 + 3 * 60_000 + 1;
      try {
        expect((await c.get('/api/v1/nodes?status=silent')).body.items.map((n: any) => n.name)).toEqual(['cp-1', 'tmp', 'w-1', 'w-2']);
        const coverage = await c.get('/api/v1/correlations?kind=coverage');
        expect(coverage.body.items.map((i: any) => i.id)).toContain('coverage:silent-node:w-1');
        expect((await c.get('/api/v1/nodes/w-1')).body.status).toBe('silent');
      } finally {
        c.clock.now = t0;
      }
      expect((await c.get('/api/v1/nodes?status=silent')).body.items).toEqual([]);
    });

    it('summarises the cluster and its score', async () => {
      const res = await c.get('/api/v1/summary');
      expect(res.body).toMatchObject({
        nodes: { total: 4, reporting: 4, silent: 0 },
        findings: { open: { pass: 5, fail: 4 }, failingBySeverity: { critical: 2, high: 2 } },
      });
      expect(res.body.correlations.drift).toBeGreaterThan(0);
      expect(res.body.score.cluster.rate).toBeCloseTo(5 / 9, 3);
      expect(Object.keys(res.body.score.sections)).toEqual(['2', '4.2']);
      const score = await c.get('/api/v1/score');
      expect(score.body.nodes.map((n: any) => n.name)).toEqual(['cp-1', 'tmp', 'w-1', 'w-2']);
      expect(score.body.history.length).toBeGreaterThan(0);
    });
  });

  it('publishes an OpenAPI document naming every route and parameter', async () => {
    const doc = (await c.get('/api/v1/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/changes', '/api/v1/checks', '/api/v1/correlations', '/api/v1/correlations/rules', '/api/v1/events', '/api/v1/findings',
      '/api/v1/nodes', '/api/v1/nodes/{name}', '/api/v1/nodes/{name}/history', '/api/v1/openapi.json', '/api/v1/replica', '/api/v1/reports',
      '/api/v1/score', '/api/v1/serviceaccounts/{namespace}/{name}/permissions', '/api/v1/summary', '/api/v1/trend', '/healthz', '/metrics', '/readyz',
    ]);
    expect(doc.paths['/api/v1/findings'].get.parameters.map((p: any) => p.name)).toEqual(
      ['node', 'status', 'severity', 'check', 'cis', 'component', 'namespace', 'pod', 'since', 'q', 'sort', 'limit', 'cursor']);
    expect(doc.components.schemas.NodeReport.properties.findings.type).toBe('array');
  });

  it('exposes Prometheus metrics', async () => {
    const res = await c.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/vigil_collector_ingest_messages_total\{kind="full",result="applied"\} [1-9]/);
    expect(res.body).toMatch(/vigil_collector_ingest_messages_total\{kind="full",result="invalid"\} [1-9]/);
    expect(res.body).toMatch(/vigil_collector_nodes\{status="reporting"\} 4/);
    expect(res.body).toMatch(/vigil_collector_http_requests_total\{method="GET",route="\/api\/v1\/findings",code="400"\}/);
  });
});
