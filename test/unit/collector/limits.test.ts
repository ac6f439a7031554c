// Hostile input at the ingest boundary (issue 11, item 2): oversized and deeply nested fields, huge keys and bad node
// names are refused with a 400 (or a rejected message) naming the field, on REST and on the path gRPC and NATS take,
// and nothing of them is stored. Plus the security headers every response carries and the report body limit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { addServeOptions, resolveServeOptions, type RawServeOptions } from '../../../collector/app/options.js';
import { BatchingIngestor, DeliveryIngestor, deliveryMetrics } from '../../../collector/ingest/ingestor.js';
import { validateMessage, validateReport } from '../../../collector/ingest/validate.js';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import { jsonExtent, REPORT_LIMITS, type Finding, type NodeReport } from '../../../proto/report.js';
import type { Envelope } from '../../../proto/wire.js';
import { REPO } from '../../harness/built-cli.js';
import { tempDir } from '../../harness/integration.js';
import { READ, startTestCollector, type TestCollector } from './collector-harness.js';
import { finding, report } from './helpers.js';

const MB = 1024 * 1024;

/** `[[[[…]]]]` `depth` levels deep, built without recursion. */
function nested(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const DEEP = '@@deep@@';
/** Stands for a value 6,000 levels deep: JSON.stringify recurses, so the text is spliced in by toJson. */
const deep = (): unknown => DEEP;
const DEEP_TEXT = `${'['.repeat(6000)}"bottom"${']'.repeat(6000)}`;
const toJson = (doc: unknown): string => JSON.stringify(doc).split(JSON.stringify(DEEP)).join(DEEP_TEXT);

const base = (): Finding => finding({ checkId: 'cis-4.2.1', cis: '4.2.1', status: 'fail', severity: 'high', value: true });

/** Each hostile document, and the field its 400 must name. */
function hostileReports(): Array<[string, NodeReport, RegExp]> {
  const withFinding = (f: Finding): NodeReport => report('w-1', [f]);
  const node = report('w-1', [base()]);
  return [
    ['a 1 MB evidence value', withFinding({ ...base(), evidence: { source: 'flag', value: 'v'.repeat(MB) } }),
      /^findings\.0\.evidence\.value: larger than 16384 characters/],
    ['1 MB of undeclared keys on a finding', withFinding({ ...base(), ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x${i}`, 'y'.repeat(35_000)])) }),
      /^findings\.0\.x\d+: undeclared keys larger than 8192 characters/],
    ['many undeclared keys on the evidence', withFinding({ ...base(), evidence: { source: 'flag', ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])) } }),
      /^findings\.0\.evidence: more than 32 keys the schema does not declare/],
    ['an 8 MB key in the node info', { ...node, node: { ...node.node, ['k'.repeat(8 * MB)]: 1 } },
      /^node\.k{64}…: a key longer than 128 characters/],
    ['a component name of 1 MB', { ...node, node: { ...node.node, components: { ['c'.repeat(MB)]: { version: '1' } } } },
      /^node\.components\.c{64}…: a component name longer than 128 characters/],
    ['an evidence value nested 6,000 deep', withFinding({ ...base(), evidence: { source: 'flag', value: deep() } }),
      /^findings\.0\.evidence\.value: nested deeper than 16 levels/],
    ['an undeclared key nested 6,000 deep', withFinding({ ...base(), resource: { kind: 'component', component: 'kubelet', extra: deep() } as never }),
      /^findings\.0\.resource\.extra: nested deeper than 16 levels/],
    ['a node info nested 6,000 deep', { ...node, node: { ...node.node, deep: deep() } },
      /^node\.deep: nested deeper than 16 levels/],
    ['a path as the node name', report('../../etc/passwd', [base()]), /^node\.name: must be a DNS-1123 subdomain/],
    ['control characters in the node name', report('w-1\u0000\u001b[2J', [base()]), /^node\.name: must be a DNS-1123 subdomain/],
    ['an upper-case node name', report('Worker-1', [base()]), /^node\.name: must be a DNS-1123 subdomain/],
    ['a node name of 300 characters', report('a'.repeat(300), [base()]), /^node\.name: must be at most 253 characters/],
  ];
}

describe('report limits over REST (POST /api/v1/reports)', () => {
  let c: TestCollector;
  beforeAll(async () => { c = await startTestCollector({ maxReportBytes: 32 * MB }); });
  afterAll(async () => { await c?.stop(); });

  it('refuses each hostile document with a 400 naming the field, and stores none of it', async () => {
    for (const [what, doc, field] of hostileReports()) {
      const res = await c.post('/api/v1/reports', toJson(doc));
      expect(res.status, what).toBe(400);
      expect(res.body.issues[0], what).toMatch(field);
      expect(res.body.message.length, what).toBeLessThan(400);
    }
    expect((await c.get('/api/v1/nodes')).body.items).toEqual([]);
    expect((await c.get('/api/v1/findings')).body.items).toEqual([]);
    // Nesting never reaches the store as a 500: the store and the correlation engine still answer.
    expect((await c.get('/readyz', '')).status).toBe(200);
    expect((await c.get('/api/v1/correlations')).status).toBe(200);
  });

  it('takes the same report within the limits', async () => {
    const fine = { ...base(), evidence: { source: 'flag', value: { nested: nested(10), text: 'v'.repeat(10_000) } }, futureField: 'kept' };
    const res = await c.post('/api/v1/reports', report('w-1.example.com', [fine]));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [stored] = (await c.get('/api/v1/findings?node=w-1.example.com')).body.items;
    expect(stored.futureField).toBe('kept');
  });
});

describe('report limits on the path gRPC and NATS take (the ingestor)', () => {
  it('rejects the same documents as invalid messages, each naming the field', async () => {
    for (const [what, doc, field] of hostileReports()) {
      const parsed = JSON.parse(toJson(doc)) as NodeReport;
      const err = await validateMessage({ kind: 'full', node: parsed.node.name, seq: 1, report: parsed }).catch((e: unknown) => e);
      expect(err, what).toMatchObject({ name: 'IngestValidationError' });
      // The message's own node field is checked before the report's, with the same rule.
      const first = (err as { issues: string[] }).issues[0];
      expect(first.replace(/^node: /, 'node.name: ').replace(/^report\./, ''), what).toMatch(field);
    }
    const delta = { kind: 'delta', node: 'w-1', seq: 2, scannedAt: '2025-01-01T00:00:00Z', resolved: [],
      upserts: [{ ...base(), evidence: { source: 'flag', value: deep() } }] };
    await expect(validateMessage(JSON.parse(toJson(delta)))).rejects.toMatchObject({ issues: [expect.stringMatching(/^upserts\.0\.evidence\.value: nested deeper/)] });
  });

  it('a DeliveryIngestor (what every streaming transport calls) rejects a bad node name and stores nothing', async () => {
    const dir = tempDir('limits');
    const store = new SqliteStore(dir.path);
    await store.migrate();
    try {
      const delivery = new DeliveryIngestor(new BatchingIngestor(store), { metrics: deliveryMetrics(new Registry()), log: pino({ level: 'silent' }) });
      for (const name of ['../../etc/passwd', 'node\u0007bell', 'UPPER']) {
        const envelope: Envelope = { node: name, cluster: 'c', seq: 1, payload: { kind: 'full', report: report(name, [base()]) } };
        expect(await delivery.receive(envelope, { transport: 'grpc' }), name).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/DNS-1123/) });
      }
      expect(await store.allNodes()).toEqual([]);
    } finally {
      await store.close();
      dir.cleanup();
    }
  });

  it('the agent\'s real reports are far inside every limit', async () => {
    for (const name of ['control-plane.json', 'worker-1.json', 'worker-2.json']) {
      const doc = JSON.parse(readFileSync(join(REPO, 'test/fixtures/reports', name), 'utf8')) as NodeReport;
      await expect(validateReport(doc)).resolves.toMatchObject({ node: { name: doc.node.name } });
    }
  });

  it('measures JSON without recursion and stops at the first limit crossed', () => {
    expect(jsonExtent(nested(100_000), { maxDepth: 16, maxChars: 1000 }).problem).toBe('deep');
    const value = { a: [1, 'xy', null, true], b: { c: 'd' } };
    const { chars, problem } = jsonExtent(value, { maxDepth: 16, maxChars: 1000 });
    expect(problem).toBeUndefined();
    expect(chars - JSON.stringify(value).length).toBeGreaterThanOrEqual(0);
    expect(chars - JSON.stringify(value).length).toBeLessThanOrEqual(3);
    expect(jsonExtent(new Array(10_000_000).fill(0), { maxDepth: 16, maxChars: 1000 }).problem).toBe('large');
    expect(REPORT_LIMITS.maxDepth).toBe(16);
  });
});

describe('HTTP hardening', () => {
  let c: TestCollector;
  beforeAll(async () => { c = await startTestCollector(); });
  afterAll(async () => { await c?.stop(); });

  it('sends the security headers on every response: answers, errors, health, metrics, the OpenAPI document', async () => {
    const responses = await Promise.all([
      fetch(`${c.httpUrl}/api/v1/findings`, { headers: { authorization: `Bearer ${READ}` } }),
      fetch(`${c.httpUrl}/api/v1/findings`),
      fetch(`${c.httpUrl}/api/v1/findings?limit=0`, { headers: { authorization: `Bearer ${READ}` } }),
      fetch(`${c.httpUrl}/nowhere`),
      fetch(`${c.httpUrl}/healthz`),
      fetch(`${c.httpUrl}/readyz`),
      fetch(`${c.httpUrl}/metrics`, { headers: { authorization: `Bearer ${READ}` } }),
      fetch(`${c.httpUrl}/api/v1/openapi.json`),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 401, 400, 404, 200, 200, 200, 200]);
    for (const res of responses) {
      expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), res.url).toBe('DENY');
      expect(res.headers.get('content-security-policy'), res.url).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy'), res.url).toBe('no-referrer');
      expect(res.headers.get('cache-control'), res.url).toBe('no-store');
      expect(res.headers.get('strict-transport-security'), res.url).toBeNull();
      await res.arrayBuffer();
    }
  });

  it('the default --max-report-size fits a report of 5,000 findings as the agent prints it, and not much more', async () => {
    const serve = addServeOptions(new Command('serve')).parse(['--data-dir', '/tmp/x', '--no-auth'], { from: 'user' });
    const opts = resolveServeOptions(serve.opts<RawServeOptions>());
    const sized = await startTestCollector({ maxReportBytes: opts.maxReportBytes });
    try {
      // Shaped like a container-heavy node's findings, each a little larger than the largest real one (~1.2 KiB printed).
      const findings = Array.from({ length: 5000 }, (_, i) => finding({
        checkId: `container-check-${i % 40}`, component: 'container', status: i % 3 ? 'pass' : 'fail', severity: 'high',
        title: `Container ${i} runs with a setting the Pod Security Standards forbid (restricted profile)`,
        remediation: 'Set securityContext.allowPrivilegeEscalation: false and drop ALL capabilities in the pod spec; '.repeat(4),
        resource: { kind: 'container', id: `${i}`.padStart(64, 'c'), namespace: `team-${i % 30}`, pod: `app-${i}-7d9f8b6c5-x2x4z`,
          container: 'main', image: 'registry.example.com/team/app:1.2.3' },
        evidence: { source: 'oci-spec', path: `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${i}/config.json`, key: 'process.capabilities.effective',
          value: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'], expected: 'drop ALL' },
      }));
      const body = JSON.stringify(report('big-node', findings), null, 2);
      expect(body.length / findings.length).toBeGreaterThan(1200);
      expect(body.length).toBeLessThan(opts.maxReportBytes);
      const res = await sized.post('/api/v1/reports', body);
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
      expect(res.body.findings).toBe(5000);
      const twice = JSON.stringify(report('big-node', [...findings, ...findings.map((f) => ({ ...f, id: `${f.id}-2` }))]), null, 2);
      expect((await sized.post('/api/v1/reports', twice)).status).toBe(413);
    } finally {
      await sized.stop();
    }
  });
});
