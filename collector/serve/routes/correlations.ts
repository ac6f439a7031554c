import { SEVERITIES } from '../../../proto/report.js';
import { RULES } from '../../correlate/rules.js';
import { CORRELATION_KINDS } from '../../correlate/types.js';
import type { RouteDef } from '../context.js';
import { iso } from '../present.js';

export const correlationsRoute: RouteDef = {
  method: 'GET',
  url: '/api/v1/correlations',
  role: 'read',
  summary: 'Cluster-wide correlations (drift, attack paths, coverage), each pointing at its evidence findings',
  params: [
    { name: 'kind', type: 'enumList', values: CORRELATION_KINDS, description: 'drift, attack-path, coverage' },
    { name: 'severity', type: 'enumList', values: SEVERITIES, description: 'severities' },
    { name: 'node', type: 'string', maxLength: 253, description: 'only correlations involving this node' },
    { name: 'limit', type: 'integer', min: 1, max: 10_000, default: 1000, description: 'most correlations returned (most severe first)' },
  ],
  responses: { 200: '{ items: [{ id, kind, rule, severity, title, nodes, evidence }], total, computedAt }', 400: 'a bad parameter' },
  async handler(ctx, p) {
    const snap = await ctx.engine.current();
    const kinds = p.kind as string[] | undefined;
    const severities = p.severity as string[] | undefined;
    const items = snap.items
      .filter((c) => !kinds || kinds.includes(c.kind))
      .filter((c) => !severities || severities.includes(c.severity))
      .filter((c) => p.node === undefined || c.nodes.includes(p.node as string));
    return { items: items.slice(0, p.limit as number), total: items.length, computedAt: iso(snap.computedAt) };
  },
};

export const rulesRoute: RouteDef = {
  method: 'GET',
  url: '/api/v1/correlations/rules',
  role: 'read',
  summary: 'The correlation rules the collector applies',
  responses: { 200: '{ items: [{ id, kind, description }] }' },
  async handler() {
    return { items: RULES.map((r) => ({ id: r.id, kind: r.kind, description: r.description })) };
  },
};
