import type { RouteDef } from '../context.js';
import { decodeNodesCursor, encodeCursor } from '../cursor.js';
import { iso, presentFinding, presentNode } from '../present.js';
import { passRate } from '../../correlate/score.js';

export const nodesRoute: RouteDef = {
  method: 'GET',
  url: '/api/v1/nodes',
  role: 'read',
  summary: 'Nodes with roles, agent version, last report, status and finding summary',
  params: [
    { name: 'role', type: 'string', maxLength: 64, description: 'only nodes with this role' },
    { name: 'status', type: 'enum', values: ['reporting', 'silent'], description: 'reporting, or silent (no report for 3 intervals)' },
    { name: 'limit', type: 'integer', min: 1, max: 5000, default: 1000, description: 'page size' },
    { name: 'cursor', type: 'cursor', description: 'nextCursor of the previous page' },
  ],
  responses: { 200: '{ items: [{ name, roles, lastReport, agentVersion, status, summary }], nextCursor }', 400: 'a bad parameter' },
  async handler(ctx, p) {
    const now = ctx.now();
    const threshold = now - ctx.silentAfterMs;
    const page = await ctx.store.nodes({
      role: p.role as string | undefined,
      reportedBefore: p.status === 'silent' ? threshold : undefined,
      reportedSince: p.status === 'reporting' ? threshold : undefined,
      limit: p.limit as number,
      after: p.cursor === undefined ? undefined : decodeNodesCursor(p.cursor as string),
    });
    return {
      items: page.items.map((n) => presentNode(n, now, ctx.silentAfterMs)),
      nextCursor: page.nextAfter ? encodeCursor('name', page.nextAfter) : null,
    };
  },
};

export const nodeRoute: RouteDef = {
  method: 'GET',
  url: '/api/v1/nodes/:name',
  role: 'read',
  summary: 'One node with its current findings, status history and score history',
  pathParams: [{ name: 'name', description: 'node name' }],
  params: [
    { name: 'limit', type: 'integer', min: 1, max: 5000, default: 1000, description: 'most current findings returned (most severe first)' },
    { name: 'history', type: 'integer', min: 1, max: 1000, default: 100, description: 'most history entries returned' },
  ],
  responses: { 200: 'node + findings + history { events, scores }', 404: 'no such node' },
  async handler(ctx, p, req, reply) {
    const { name } = req.params as { name: string };
    const node = await ctx.store.node(name);
    if (!node) return reply.code(404).send({ error: 'Not Found', message: `no node named ${JSON.stringify(name)}` });
    const [findings, events, scores] = await Promise.all([
      ctx.store.findings({ node: name, sort: 'severity', limit: p.limit as number }),
      ctx.store.findingEvents(name, p.history as number),
      ctx.store.nodeScores(name, p.history as number),
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
  },
};
