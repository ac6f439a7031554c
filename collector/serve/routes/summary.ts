import { SEVERITIES, STATUSES } from '../../../proto/report.js';
import { CORRELATION_KINDS } from '../../correlate/types.js';
import type { RouteDef } from '../context.js';
import { iso } from '../present.js';

export const summaryRoute: RouteDef = {
  method: 'GET',
  url: '/api/v1/summary',
  role: 'read',
  summary: 'The cluster at a glance: nodes, open findings, correlations, score',
  responses: { 200: '{ nodes, findings, correlations, score, computedAt }' },
  async handler(ctx) {
    const now = ctx.now();
    const [nodes, counts, snap] = await Promise.all([
      ctx.store.nodeCounts(now - ctx.silentAfterMs), ctx.store.openCounts(), ctx.engine.current()]);
    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<string, number>;
    const failingBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<string, number>;
    for (const c of counts) {
      byStatus[c.status] += Number(c.n);
      if (c.status === 'fail') failingBySeverity[c.severity] += Number(c.n);
    }
    const correlations = Object.fromEntries(CORRELATION_KINDS.map((k) => [k, snap.items.filter((c) => c.kind === k).length]));
    return {
      nodes: { total: nodes.total, reporting: nodes.total - nodes.silent, silent: nodes.silent },
      findings: { open: byStatus, failingBySeverity },
      correlations,
      score: { cluster: snap.score.cluster, components: snap.score.components, sections: snap.score.sections },
      computedAt: iso(snap.computedAt),
    };
  },
};

export const scoreRoute: RouteDef = {
  method: 'GET',
  url: '/api/v1/score',
  role: 'read',
  summary: 'Pass rate per node, component and CIS section, with the cluster history',
  params: [{ name: 'history', type: 'integer', min: 1, max: 10_000, default: 100, description: 'most history points returned' }],
  responses: { 200: '{ cluster, nodes, components, sections, history: [{ at, score }] }', 400: 'a bad parameter' },
  async handler(ctx, p) {
    const [snap, history] = await Promise.all([ctx.engine.current(), ctx.store.clusterScores(p.history as number)]);
    return { ...snap.score, history: history.map((h) => ({ at: iso(h.at), score: h.score })), computedAt: iso(snap.computedAt) };
  },
};
