// What changed over time: the hourly trend of open findings, and the change feed (status events and first statuses
// across the cluster, resolutions included). Both feed the dashboard's overview.
import { parseDuration } from '../../../common/duration.js';
import { lastOfEachDay } from '../../store/trend.js';
import type { RoutePlugin } from '../context.js';
import { decodeChangesCursor, encodeCursor } from '../cursor.js';
import { param, query, timeFrom, type TimeBound } from '../params.js';
import { iso } from '../present.js';
import { ChangesPage, TrendBody, tokenRouteErrors } from '../schemas.js';

const DAY_MS = 86_400_000;

const TrendQuery = query({
  since: param.time('first point (default 30d)'),
  step: param.oneOfOr(['1h', '1d'], '1h', 'one point per hour, or the last point of each day (default 1h)'),
});

const ChangesQuery = query({
  since: param.time('oldest change (default 1h)'),
  node: param.text('only this node', { maxLength: 253 }),
  limit: param.integer('page size', { min: 1, max: 1000, default: 50 }),
  cursor: param.cursor(),
});

const ago = (duration: string): TimeBound => ({ ago: parseDuration(duration) });

export const activityRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/api/v1/trend', {
    config: { role: 'read' },
    schema: {
      summary: 'Open findings over time: failing by severity and open by status, one point per hour (kept 30 days)',
      querystring: TrendQuery,
      response: { 200: TrendBody.describe('the points in the window, in time order'), ...tokenRouteErrors('read') },
    },
  }, async (req) => {
    const now = ctx.now();
    const since = timeFrom(req.query.since ?? ago('30d'), now);
    const hourly = await ctx.store.trend(since);
    const points = req.query.step === '1d'
      ? lastOfEachDay(hourly).map((p) => ({ ...p, at: Math.floor(p.at / DAY_MS) * DAY_MS }))
      : hourly;
    return {
      step: req.query.step,
      from: iso(since),
      to: iso(now),
      points: points.map((p) => ({ at: iso(p.at), failing: p.failing, open: p.open })),
    };
  });

  app.get('/api/v1/changes', {
    config: { role: 'read' },
    schema: {
      summary: 'What changed in the findings across the cluster: new findings, status changes, resolutions, reopenings',
      querystring: ChangesQuery,
      response: { 200: ChangesPage.describe('changes, newest first'), ...tokenRouteErrors('read') },
    },
  }, async (req) => {
    const { node, limit, cursor } = req.query;
    const since = timeFrom(req.query.since ?? ago('1h'), ctx.now());
    const page = await ctx.store.changes({ since, node, limit, after: cursor === undefined ? undefined : decodeChangesCursor(cursor) });
    return {
      items: page.items.map((c) => ({
        at: iso(c.at), node: c.node, findingId: c.findingId, checkId: c.checkId, event: c.event, status: c.status,
        severity: c.finding.severity, title: c.finding.title, component: c.finding.component,
      })),
      nextCursor: page.nextAfter ? encodeCursor('changes', page.nextAfter) : null,
    };
  });
};
