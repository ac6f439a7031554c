// `vigil-collector query` and GET /api/v1/findings as a person meets them (issue 13): open problems first (a plain
// host's critical skips no longer fill the first page), tables for the summary and one node, --json for the answer,
// checks in CIS order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCommand } from '../../../collector/query/command.js';
import type { Finding } from '../../../proto/report.js';
import { READ, startTestCollector, type TestCollector } from './collector-harness.js';
import { finding, report } from './helpers.js';

/** Runs `vigil-collector query …` in process against the test collector and returns what it printed. */
async function query(c: TestCollector, ...args: string[]): Promise<string> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => { out += chunk.toString(); return true; }) as typeof process.stdout.write;
  const token = process.env.VIGIL_TOKEN;
  process.env.VIGIL_TOKEN = READ;
  try {
    await queryCommand().exitOverride().parseAsync(['--url', c.httpUrl, ...args], { from: 'user' });
  } finally {
    process.stdout.write = write;
    if (token === undefined) delete process.env.VIGIL_TOKEN; else process.env.VIGIL_TOKEN = token;
  }
  return out;
}

/** What a plain host (no Kubernetes) reports: many critical checks that do not apply, a few real problems. */
function plainHost(): Finding[] {
  const skips = Array.from({ length: 30 }, (_, i) => finding({ checkId: `cis-1.2.${i + 1}`, cis: `1.2.${i + 1}`, status: 'skip',
    severity: 'critical', component: 'kube-apiserver', title: `API server setting ${i + 1}`, resource: { kind: 'component', component: 'kube-apiserver' } }));
  return [
    ...skips,
    finding({ checkId: 'port-exposed', status: 'fail', severity: 'medium', component: 'node', title: 'a port is open to the world',
      resource: { kind: 'port', protocol: 'tcp', address: '0.0.0.0', port: 6379 } }),
    finding({ checkId: 'kernel-kptr', status: 'warn', severity: 'low', component: 'node', title: 'kernel pointers readable',
      resource: { kind: 'kernel', key: 'kernel.kptr_restrict' } }),
    finding({ checkId: 'kernel-dmesg', status: 'error', severity: 'low', component: 'node', title: 'dmesg restriction unreadable',
      resource: { kind: 'kernel', key: 'kernel.dmesg_restrict' } }),
    finding({ checkId: 'cis-1.2.40', cis: '1.2.40', status: 'pass', severity: 'high', component: 'kube-apiserver', title: 'one that applies',
      resource: { kind: 'component', component: 'kube-apiserver' } }),
  ];
}

describe('open problems first, tables for people', () => {
  let c: TestCollector;
  beforeAll(async () => {
    c = await startTestCollector();
    expect((await c.post('/api/v1/reports', report('plain-host', plainHost(), { roles: [] }))).status).toBe(200);
    expect((await c.post('/api/v1/reports', report('w-1', [finding({ checkId: 'cis-4.2.1', cis: '4.2.1', status: 'fail', severity: 'high' })]))).status).toBe(200);
  });
  afterAll(async () => { await c?.stop(); });

  it('GET /api/v1/findings lists failures, errors and warnings before passes and skips by default, and pages in that order', async () => {
    const page = (await c.get('/api/v1/findings?node=plain-host&limit=4')).body;
    expect(page.items.map((f: any) => f.status)).toEqual(['fail', 'error', 'warn', 'pass']);
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await c.get(`/api/v1/findings?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      all.push(...res.body.items.map((f: any) => f.status));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(all).toEqual([...Array(2).fill('fail'), 'error', 'warn', 'pass', ...Array(30).fill('skip')]);
    // The old order stays one parameter away.
    expect((await c.get('/api/v1/findings?sort=severity&limit=1')).body.items[0]).toMatchObject({ status: 'skip', severity: 'critical' });
    const doc = (await c.get('/api/v1/openapi.json', '')).body;
    const sort = doc.paths['/api/v1/findings'].get.parameters.find((p: any) => p.name === 'sort');
    expect(sort.schema.default).toBe('problems');
  });

  it('`query findings` prints the problems first', async () => {
    const lines = (await query(c, 'findings', '--limit', '5')).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SEVERITY\s+STATUS\s+NODE\s+CHECK\s+TITLE\s+LAST SEEN$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['fail', 'fail', 'error', 'warn', 'pass']);
  });

  it('`query summary` prints a table by default and the REST answer with --json', async () => {
    const text = await query(c, 'summary');
    expect(text).toMatch(/^nodes\s+2 total, 2 reporting, 0 silent$/m);
    expect(text).toMatch(/^open findings\s+2 fail, 1 error, 1 warn, 1 pass, 30 skip$/m);
    expect(text).toMatch(/^failing\s+0 critical, 1 high, 1 medium, 0 low, 0 info$/m);
    expect(text).toMatch(/^pass rate\s+25\.0% \(1 pass \/ 2 fail \/ 1 warn\)$/m);
    expect(text).toMatch(/^COMPONENT\s+PASS RATE\s+PASS\s+FAIL\s+WARN$/m);
    expect(() => JSON.parse(text)).toThrow();
    const json = JSON.parse(await query(c, '--json', 'summary'));
    expect(json).toMatchObject({ nodes: { total: 2 }, findings: { open: { skip: 30 } } });
    expect(JSON.parse(await query(c, '--format', 'json', 'summary'))).toEqual(json);
  });

  it('`query node` prints the node, its findings problems first, and its history', async () => {
    const text = await query(c, 'node', 'plain-host');
    expect(text).toMatch(/^node\s+plain-host$/m);
    expect(text).toMatch(/^open findings\s+1 fail, 1 error, 1 warn, 1 pass, 30 skip$/m);
    const rows = text.split('\n');
    const header = rows.findIndex((l) => /^SEVERITY\s+STATUS\s+CHECK\s+RESOURCE\s+TITLE$/.test(l));
    expect(header).toBeGreaterThan(0);
    expect(rows[header + 1]).toMatch(/^medium\s+fail\s+port-exposed\s+tcp 0\.0\.0\.0:6379\s+a port is open to the world$/);
    expect(rows.slice(header + 1, header + 5).map((l) => l.split(/\s+/)[1])).toEqual(['fail', 'error', 'warn', 'pass']);
    expect(JSON.parse(await query(c, 'node', 'plain-host', '--json')).name).toBe('plain-host');
    const limited = await query(c, 'node', 'plain-host', '--limit', '2');
    expect(limited).toContain('FINDINGS (problems first; the first 2, --limit shows more)');
  });

  it('`query checks` lists checks in CIS order: 1.2.9 before 1.2.10, checks without a CIS id last', async () => {
    const lines = (await query(c, 'checks')).trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);
    const cis = lines.filter((id) => id.startsWith('cis-'));
    expect(cis.slice(0, 11)).toEqual(['cis-1.2.1', 'cis-1.2.2', 'cis-1.2.3', 'cis-1.2.4', 'cis-1.2.5', 'cis-1.2.6', 'cis-1.2.7',
      'cis-1.2.8', 'cis-1.2.9', 'cis-1.2.10', 'cis-1.2.11']);
    expect(cis.at(-1)).toBe('cis-4.2.1');
    expect(lines.slice(cis.length)).toEqual(['kernel-dmesg', 'kernel-kptr', 'port-exposed']);
    const json = JSON.parse(await query(c, 'checks', '--json'));
    expect(json.items.map((i: any) => i.checkId).indexOf('cis-1.2.10')).toBe(9);
  });
});
