import { SEVERITIES, STATUSES } from '../../../proto/report.js';
import { FINDING_SORTS, type FindingQuery, type FindingSort, type LifecycleStatus } from '../../store/types.js';
import type { RouteDef } from '../context.js';
import { decodeFindingsCursor, encodeCursor } from '../cursor.js';
import type { ParamSpec } from '../params.js';
import { presentFinding } from '../present.js';

export const FINDINGS_PARAMS: ParamSpec[] = [
  { name: 'node', type: 'string', maxLength: 253, description: 'node name' },
  { name: 'status', type: 'enumList', values: [...STATUSES, 'resolved'], description: 'check status of open findings, or `resolved`; default: every open finding' },
  { name: 'severity', type: 'enumList', values: SEVERITIES, description: 'severities' },
  { name: 'check', type: 'string', maxLength: 200, description: 'check id (e.g. cis-4.2.1)' },
  { name: 'cis', type: 'string', maxLength: 32, pattern: /^\d+(\.\d+)*$/, description: 'CIS id or section prefix (4.2 matches 4.2.*)' },
  { name: 'component', type: 'string', maxLength: 64, description: 'component the check judges (kubelet, etcd, container, ...)' },
  { name: 'namespace', type: 'string', maxLength: 253, description: 'pod namespace (container findings)' },
  { name: 'pod', type: 'string', maxLength: 253, description: 'pod name (container findings)' },
  { name: 'since', type: 'time', description: 'new or changed at or after this time' },
  { name: 'q', type: 'string', maxLength: 200, description: 'case-insensitive text in the finding (title, ids, resource, evidence)' },
  { name: 'sort', type: 'enum', values: FINDING_SORTS, default: 'severity', description: 'severity (then most recently changed), recent, or node' },
  { name: 'limit', type: 'integer', min: 1, max: 1000, default: 100, description: 'page size' },
  { name: 'cursor', type: 'cursor', description: 'nextCursor of the previous page' },
];

export const findingsRoute: RouteDef = {
  method: 'GET',
  url: '/api/v1/findings',
  role: 'read',
  summary: 'Findings across the cluster, filtered and paged',
  params: FINDINGS_PARAMS,
  responses: { 200: '{ items: [finding + node, firstSeen, lastSeen, changedAt, resolvedAt], nextCursor }', 400: 'a bad parameter' },
  async handler(ctx, p) {
    const sort = p.sort as FindingSort;
    const query: FindingQuery = {
      node: p.node as string | undefined,
      status: p.status as LifecycleStatus[] | undefined,
      severity: p.severity as FindingQuery['severity'],
      check: p.check as string | undefined,
      cis: p.cis as string | undefined,
      component: p.component as string | undefined,
      namespace: p.namespace as string | undefined,
      pod: p.pod as string | undefined,
      since: p.since as number | undefined,
      q: p.q as string | undefined,
      sort,
      limit: p.limit as number,
      after: p.cursor === undefined ? undefined : decodeFindingsCursor(p.cursor as string, sort),
    };
    const page = await ctx.store.findings(query);
    return { items: page.items.map(presentFinding), nextCursor: page.nextAfter ? encodeCursor(sort, page.nextAfter) : null };
  },
};
