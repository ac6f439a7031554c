import { z } from 'zod';
import { passRate } from '../../correlate/score.js';
import { IDENTITY_KINDS } from '../../store/messages.js';
import type { RoutePlugin } from '../context.js';
import { parseDuration } from '../../../common/duration.js';
import { decodeHistoryCursor, decodeNodesCursor, encodeCursor } from '../cursor.js';
import { param, query, timeFrom } from '../params.js';
import { iso, presentFinding, presentNode } from '../present.js';
import { ErrorBody, NodeDetail, NodeHistoryPage, NodesPage, tokenRouteErrors } from '../schemas.js';

const NodesQuery = query({
  role: param.text('only nodes with this role', { maxLength: 64 }),
  status: param.oneOf(['reporting', 'silent'], 'reporting, or silent (no report for 3 intervals)'),
  limit: param.integer('page size', { min: 1, max: 5000, default: 1000 }),
  cursor: param.cursor(),
});

const NodeQuery = query({
  limit: param.integer('most current findings returned (problems first)', { min: 1, max: 5000, default: 1000 }),
  history: param.integer('most history entries returned', { min: 1, max: 1000, default: 100 }),
});

const HistoryQuery = query({
  since: param.time('start of the window (default 30d)'),
  limit: param.integer('page size (findings, most recent activity first)', { min: 1, max: 5000, default: 500 }),
  cursor: param.cursor(),
});

const NodeParams = z.object({ name: z.string().describe('node name') });

const NodeWithIdentity = NodeDetail.extend({
  identity: z.object({
    kind: z.enum(IDENTITY_KINDS).describe('service-account (a token bound to the node), certificate (a client certificate naming '
      + 'it), token (a REST token), none (--no-auth, --insecure, a NATS subject taken on trust)'),
    subject: z.string().describe('the ServiceAccount, the certificate name, or the REST token name'),
    boundSince: z.iso.datetime().nullable().describe('since when only an identity tied to this node may write it'),
  }).nullable().describe('who wrote the node\'s last accepted report'),
});

export const nodesRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/api/v1/nodes', {
    config: { role: 'read' },
    schema: {
      summary: 'Nodes with roles, agent version, last report, status and finding summary',
      querystring: NodesQuery,
      response: { 200: NodesPage.describe('a page of nodes, by name'), ...tokenRouteErrors('read') },
    },
  }, async (req) => {
    const { role, status, limit, cursor } = req.query;
    const now = ctx.now();
    const threshold = now - ctx.silentAfterMs;
    const page = await ctx.store.nodes({
      role,
      reportedBefore: status === 'silent' ? threshold : undefined,
      reportedSince: status === 'reporting' ? threshold : undefined,
      limit,
      after: cursor === undefined ? undefined : decodeNodesCursor(cursor),
    });
    return {
      items: page.items.map((n) => presentNode(n, now, ctx.silentAfterMs)),
      nextCursor: page.nextAfter ? encodeCursor('name', page.nextAfter) : null,
    };
  });

  app.get('/api/v1/nodes/:name', {
    config: { role: 'read' },
    schema: {
      summary: 'One node with its current findings, status history and score history',
      params: NodeParams,
      querystring: NodeQuery,
      response: {
        200: NodeWithIdentity.describe('the node, who reports for it, its current findings and its history'),
        404: ErrorBody.describe('no such node'),
        ...tokenRouteErrors('read'),
      },
    },
  }, async (req, reply) => {
    const { name } = req.params;
    const { limit, history } = req.query;
    const node = await ctx.store.node(name);
    if (!node) return reply.code(404).send({ error: 'Not Found', message: `no node named ${JSON.stringify(name)}` });
    const [findings, events, scores] = await Promise.all([
      ctx.store.findings({ node: name, sort: 'problems', limit }),
      ctx.store.findingEvents(name, history),
      ctx.store.nodeScores(name, history),
    ]);
    return {
      ...presentNode(node, ctx.now(), ctx.silentAfterMs),
      lastSeq: node.lastSeq,
      identity: node.identity
        ? { kind: node.identity.kind, subject: node.identity.subject, boundSince: node.boundAt == null ? null : iso(node.boundAt) }
        : null,
      info: node.info,
      findings: findings.items.map(presentFinding),
      findingsTruncated: findings.nextAfter !== null,
      history: {
        events: events.map((e) => ({ ...e, at: iso(e.at) })),
        scores: scores.map((s) => ({ at: iso(s.at), summary: s.summary, passRate: passRate(s.summary).rate })),
      },
    };
  });

  app.get('/api/v1/nodes/:name/history', {
    config: { role: 'read' },
    schema: {
      summary: 'When each of the node\'s findings started failing and was resolved, with its status changes, over a window',
      params: NodeParams,
      querystring: HistoryQuery,
      response: {
        200: NodeHistoryPage.describe('findings that failed, were resolved or changed status in the window'),
        404: ErrorBody.describe('no such node'),
        ...tokenRouteErrors('read'),
      },
    },
  }, async (req, reply) => {
    const { name } = req.params;
    const { limit, cursor } = req.query;
    const since = timeFrom(req.query.since ?? { ago: parseDuration('30d') }, ctx.now());
    const after = cursor === undefined ? undefined : decodeHistoryCursor(cursor);
    if (!(await ctx.store.node(name))) return reply.code(404).send({ error: 'Not Found', message: `no node named ${JSON.stringify(name)}` });
    const page = await ctx.store.nodeHistory(name, { since, limit, after });
    return {
      items: page.items.map((h) => ({
        findingId: h.finding.id, checkId: h.finding.checkId, title: h.finding.title, severity: h.finding.severity,
        component: h.finding.component, resource: h.finding.resource, status: h.status,
        openedAt: h.openedAt === null ? null : iso(h.openedAt),
        resolvedAt: h.resolvedAt === null ? null : iso(h.resolvedAt),
        events: h.events.map((e) => ({ at: iso(e.at), event: e.event, status: e.status })),
      })),
      nextCursor: page.nextAfter ? encodeCursor('history', page.nextAfter) : null,
    };
  });
};
