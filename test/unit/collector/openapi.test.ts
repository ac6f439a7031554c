// The OpenAPI document is generated from the routes' zod schemas: every response of every route has a schema,
// every parameter a description, every route its security.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCollector, type TestCollector } from './collector-harness.js';

interface Operation {
  parameters?: Array<{ name: string; in: string; description?: string; schema?: object }>;
  requestBody?: { content: Record<string, { schema?: { $ref?: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: object }> }>;
  security?: Array<Record<string, string[]>>;
  'x-vigil-role'?: string;
}

describe('OpenAPI document', () => {
  let c: TestCollector;
  let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  const operations = (): Array<[string, Operation]> =>
    Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]): [string, Operation] => [`${method} ${path}`, op]));

  beforeAll(async () => {
    c = await startTestCollector();
    doc = (await c.get('/api/v1/openapi.json', '')).body;
  });
  afterAll(async () => { await c?.stop(); });

  it('gives every response of every route a described JSON (or text) schema', () => {
    expect(operations().length).toBe(19);
    for (const [name, op] of operations()) {
      expect(Object.keys(op.responses), name).toContain('200');
      for (const [code, response] of Object.entries(op.responses)) {
        const where = `${name} ${code}`;
        expect(response.description, where).not.toBe('Default Response');
        // Bodyless responses would say so with a `null` schema; this API has none.
        expect(Object.keys(response.content ?? {}), where).not.toHaveLength(0);
        for (const media of Object.values(response.content ?? {})) expect(Object.keys(media.schema ?? {}), where).not.toHaveLength(0);
      }
    }
    const finding = (doc.paths['/api/v1/findings'].get.responses['200'].content!['application/json'].schema as any).properties.items.items;
    expect(Object.keys(finding.properties)).toEqual(expect.arrayContaining(['id', 'checkId', 'status', 'node', 'firstSeen', 'resolvedAt']));
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content!)[0]).toMatch(/^text\/plain/);
    expect(Object.keys(doc.paths['/api/v1/events'].get.responses['200'].content!)).toEqual(['text/event-stream']);
    // The dashboard's files are the page, not the API: left out of the document.
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/v1/') && !['/healthz', '/readyz', '/metrics'].includes(p))).toEqual([]);
  });

  it('describes every parameter and documents the report body by reference', () => {
    for (const [name, op] of operations()) {
      for (const p of op.parameters ?? []) {
        expect(p.description, `${name} ${p.name}`).toBeTruthy();
        expect(p.schema, `${name} ${p.name}`).toBeTruthy();
      }
    }
    const limit = doc.paths['/api/v1/findings'].get.parameters!.find((p) => p.name === 'limit');
    expect(limit?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
    expect(doc.paths['/api/v1/nodes/{name}'].get.parameters!.find((p) => p.in === 'path')?.name).toBe('name');
    const body = doc.paths['/api/v1/reports'].post.requestBody!.content['application/json'].schema!.$ref!;
    expect(doc.components.schemas[body.replace('#/components/schemas/', '')]).toBeDefined();
  });

  it('names the role of every route that needs a token, and answers 401/403 for it', () => {
    for (const [name, op] of operations()) {
      const open = ['get /healthz', 'get /readyz', 'get /api/v1/openapi.json'].includes(name);
      expect(op.security, name).toEqual(open ? [] : [{ bearer: [] }]);
      expect(op['x-vigil-role'], name).toBe(open ? undefined : name === 'post /api/v1/reports' ? 'report' : 'read');
      if (!open) expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['401', '403']));
    }
  });
});
