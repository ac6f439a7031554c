import { passRate } from '../../correlate/score.js';
import type { RoutePlugin } from '../context.js';
import { param, query } from '../params.js';
import { ChecksList, tokenRouteErrors } from '../schemas.js';

const ChecksQuery = query({
  component: param.text('only checks of this component', { maxLength: 64 }),
  cis: param.text('CIS id or section prefix', { maxLength: 32, pattern: /^\d+(\.\d+)*$/ }),
});

export const checksRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/api/v1/checks', {
    config: { role: 'read' },
    schema: {
      summary: 'Every check seen, with its open findings by status across nodes',
      querystring: ChecksQuery,
      response: { 200: ChecksList.describe('checks with open findings, by check id'), ...tokenRouteErrors('read') },
    },
  }, async (req) => {
    const { component, cis } = req.query;
    const items = (await ctx.store.checks())
      .filter((c) => component === undefined || c.component === component)
      .filter((c) => cis === undefined || (c.cis !== null && (c.cis === cis || c.cis.startsWith(`${cis}.`))))
      .filter((c) => Object.values(c.counts).some((n) => n > 0))
      .map((c) => ({ ...c, passRate: passRate(c.counts).rate }));
    return { items };
  });
};
