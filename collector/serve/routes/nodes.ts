import { z } from 'zod';
import { passRate } from '../../correlate/score.js';
import type { RoutePlugin } from '../context.js';
import { decodeNodesCursor, encodeCursor } from '../cursor.js';
import { param, query } from '../params.js';
import { iso, presentFinding, presentNode } from '../present.js';
import { ErrorBody, NodeDetail, NodesPage, tokenRouteErrors } from '../schemas.js';

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

const NodeParams = z.object({ name: z.string().describe('node name') });

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
        200: NodeDetail.describe('the node, its current findings and its history'),
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
      info: node.info,
      findings: findings.items.map(presentFinding),
      findingsTruncated: findings.nextAfter !== null,
      history: {
        events: events.map((e) => ({ ...e, at: iso(e.at) })),
        scores: scores.map((s) => ({ at: iso(s.at), summary: s.summary, passRate: passRate(s.summary).rate })),
      },
    };
  });
};
