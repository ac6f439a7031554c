// The OpenAPI 3.1 document, generated from the route definitions (paths, parameters, auth, responses).
import { z } from 'zod';
import { NodeReportSchema } from '../../proto/report.js';
import type { RouteDef } from './context.js';
import { openApiParameters } from './params.js';

export function buildOpenApi(routes: readonly RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const parameters = [
      ...(r.pathParams ?? []).map((p) => ({ name: p.name, in: 'path', required: true, description: p.description, schema: { type: 'string' } })),
      ...openApiParameters(r.params ?? []),
    ];
    const responses: Record<string, unknown> = Object.fromEntries(
      Object.entries(r.responses).map(([code, description]) => [code, { description }]));
    if (r.role) {
      responses['401'] ??= { description: 'no or unknown bearer token' };
      responses['403'] ??= { description: `the token lacks the ${r.role} role` };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(r.method === 'POST' ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NodeReport' } } } } } : {}),
      responses,
      security: r.role ? [{ bearer: [] }] : [],
      ...(r.role ? { 'x-vigil-role': r.role } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Vigil collector', version, description: 'Cluster-wide findings, correlations and scores from Vigil agents.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token from --tokens; roles read and report' } },
      schemas: {
        NodeReport: {
          ...withoutDialect(z.toJSONSchema(NodeReportSchema, { unrepresentable: 'any' }) as Record<string, unknown>),
          description: 'the JSON that `vigil-agent scan --format json` prints (proto/report.ts)',
        },
      },
    },
    paths,
  };
}

function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}
