import type { RouteDef } from '../context.js';
import { passRate } from '../../correlate/score.js';

export const checksRoute: RouteDef = {
  method: 'GET',
  url: '/api/v1/checks',
  role: 'read',
  summary: 'Every check seen, with its open findings by status across nodes',
  params: [
    { name: 'component', type: 'string', maxLength: 64, description: 'only checks of this component' },
    { name: 'cis', type: 'string', maxLength: 32, pattern: /^\d+(\.\d+)*$/, description: 'CIS id or section prefix' },
  ],
  responses: { 200: '{ items: [{ checkId, cis, title, component, severity, counts, passRate }] }', 400: 'a bad parameter' },
  async handler(ctx, p) {
    const cis = p.cis as string | undefined;
    const items = (await ctx.store.checks())
      .filter((c) => p.component === undefined || c.component === p.component)
      .filter((c) => cis === undefined || (c.cis !== null && (c.cis === cis || c.cis.startsWith(`${cis}.`))))
      .filter((c) => Object.values(c.counts).some((n) => n > 0))
      .map((c) => ({ ...c, passRate: passRate(c.counts).rate }));
    return { items };
  },
};
