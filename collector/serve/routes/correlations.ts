import { SEVERITIES } from '../../../proto/report.js';
import { RULES } from '../../correlate/rules.js';
import { CORRELATION_KINDS } from '../../correlate/types.js';
import type { RoutePlugin } from '../context.js';
import { NO_PARAMS, param, query } from '../params.js';
import { iso } from '../present.js';
import { CorrelationsList, RulesList, tokenRouteErrors } from '../schemas.js';

const CorrelationsQuery = query({
  kind: param.listOf(CORRELATION_KINDS, 'kinds of correlation'),
  severity: param.listOf(SEVERITIES, 'severities'),
  node: param.text('only correlations involving this node', { maxLength: 253 }),
  limit: param.integer('most correlations returned (most severe first)', { min: 1, max: 10_000, default: 1000 }),
});

export const correlationsRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/api/v1/correlations', {
    config: { role: 'read' },
    schema: {
      summary: 'Cluster-wide correlations (drift, attack paths, coverage), each pointing at its evidence findings',
      querystring: CorrelationsQuery,
      response: { 200: CorrelationsList.describe('correlations, most severe first'), ...tokenRouteErrors('read') },
    },
  }, async (req) => {
    const { kind, severity, node, limit } = req.query;
    const snap = await ctx.engine.current();
    const items = snap.items
      .filter((c) => !kind || kind.includes(c.kind))
      .filter((c) => !severity || severity.includes(c.severity))
      .filter((c) => node === undefined || c.nodes.includes(node));
    return { items: items.slice(0, limit), total: items.length, computedAt: iso(snap.computedAt) };
  });

  app.get('/api/v1/correlations/rules', {
    config: { role: 'read' },
    schema: {
      summary: 'The correlation rules the collector applies',
      querystring: NO_PARAMS,
      response: { 200: RulesList.describe('every rule'), ...tokenRouteErrors('read') },
    },
  }, async () => ({ items: RULES.map((r) => ({ id: r.id, kind: r.kind, description: r.description })) }));
};
