import { SEVERITIES } from '../../../proto/report.js';
import { FINDING_SORTS, LIFECYCLE_STATUSES } from '../../store/types.js';
import type { RoutePlugin } from '../context.js';
import { decodeFindingsCursor, encodeCursor } from '../cursor.js';
import { param, query, timeFrom } from '../params.js';
import { presentFinding } from '../present.js';
import { FindingsPage, tokenRouteErrors } from '../schemas.js';

const CIS_ID = /^\d+(\.\d+)*$/;

export const FindingsQuery = query({
  node: param.text('node name', { maxLength: 253 }),
  status: param.listOf(LIFECYCLE_STATUSES, 'check status of open findings, or `resolved`; default: every open finding'),
  severity: param.listOf(SEVERITIES, 'severities'),
  check: param.text('check id (e.g. cis-4.2.1)', { maxLength: 200 }),
  cis: param.text('CIS id or section prefix (4.2 matches 4.2.*)', { maxLength: 32, pattern: CIS_ID }),
  component: param.text('component the check judges (kubelet, etcd, container, ...)', { maxLength: 64 }),
  namespace: param.text('pod namespace (container findings)', { maxLength: 253 }),
  pod: param.text('pod name (container findings)', { maxLength: 253 }),
  since: param.time('new or changed at or after this time'),
  q: param.text('case-insensitive text in the finding (title, ids, resource, evidence)', { maxLength: 200 }),
  sort: param.oneOfOr(FINDING_SORTS, 'problems',
    'problems (failures, then errors, warnings, passes and skips, each most severe first; then most recently changed), severity, recent, or node'),
  limit: param.integer('page size', { min: 1, max: 1000, default: 100 }),
  cursor: param.cursor(),
});

export const findingsRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/api/v1/findings', {
    config: { role: 'read' },
    schema: {
      summary: 'Findings across the cluster, filtered and paged',
      querystring: FindingsQuery,
      response: { 200: FindingsPage.describe('a page of findings, in the requested order'), ...tokenRouteErrors('read') },
    },
  }, async (req) => {
    const { since, cursor, ...filters } = req.query;
    const page = await ctx.store.findings({
      ...filters,
      since: since === undefined ? undefined : timeFrom(since, ctx.now()),
      after: cursor === undefined ? undefined : decodeFindingsCursor(cursor, filters.sort),
    });
    return { items: page.items.map(presentFinding), nextCursor: page.nextAfter ? encodeCursor(filters.sort, page.nextAfter) : null };
  });
};
