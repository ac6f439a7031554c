import { summarize, type Severity } from '../../../proto/report.js';
import type { CorrelationKind } from '../../correlate/types.js';
import type { RoutePlugin } from '../context.js';
import { NO_PARAMS, param, query } from '../params.js';
import { iso } from '../present.js';
import { ScoreBody, ScoreSnapshot, SummaryBody, tokenRouteErrors } from '../schemas.js';

const ScoreQuery = query({
  history: param.integer('most history points returned', { min: 1, max: 10_000, default: 100 }),
});

export const summaryRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/api/v1/summary', {
    config: { role: 'read' },
    schema: {
      summary: 'The cluster at a glance: nodes, open findings, correlations, score',
      querystring: NO_PARAMS,
      response: { 200: SummaryBody.describe('the cluster at a glance'), ...tokenRouteErrors('read') },
    },
  }, async () => {
    const now = ctx.now();
    const [nodes, counts, snap] = await Promise.all([
      ctx.store.nodeCounts(now - ctx.silentAfterMs), ctx.store.openCounts(), ctx.engine.current()]);
    const open = summarize([]);
    const failingBySeverity: Record<Severity, number> = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
    for (const c of counts) {
      open[c.status] += Number(c.n);
      if (c.status === 'fail') failingBySeverity[c.severity] += Number(c.n);
    }
    const correlations: Record<CorrelationKind, number> = { drift: 0, 'attack-path': 0, coverage: 0 };
    for (const c of snap.items) correlations[c.kind]++;
    return {
      nodes: { total: nodes.total, reporting: nodes.total - nodes.silent, silent: nodes.silent },
      findings: { open, failingBySeverity },
      correlations,
      score: { cluster: snap.score.cluster, components: snap.score.components, sections: snap.score.sections },
      computedAt: iso(snap.computedAt),
    };
  });

  app.get('/api/v1/score', {
    config: { role: 'read' },
    schema: {
      summary: 'Pass rate per node, component and CIS section, with the cluster history',
      querystring: ScoreQuery,
      response: { 200: ScoreBody.describe('the score now and its history'), ...tokenRouteErrors('read') },
    },
  }, async (req) => {
    const [snap, history] = await Promise.all([ctx.engine.current(), ctx.store.clusterScores(req.query.history)]);
    return {
      ...snap.score,
      // The history is the collector's own record (see CorrelationEngine); read back through its schema.
      history: history.map((h) => ({ at: iso(h.at), score: ScoreSnapshot.parse(h.score) })),
      computedAt: iso(snap.computedAt),
    };
  });
};
