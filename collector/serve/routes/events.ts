// GET /api/v1/events: the live feed as server-sent events (serve/events.ts). The page reads it with fetch, because
// EventSource cannot send the bearer token; the token is checked like on every read route.
import { z } from 'zod';
import type { RoutePlugin } from '../context.js';
import { NO_PARAMS } from '../params.js';
import { ErrorBody, tokenRouteErrors } from '../schemas.js';

const EVENT_STREAM = 'text/event-stream';

export const eventsRoutes: RoutePlugin = async (app, { ctx }) => {
  // Before the server stops accepting: every stream ends, so closing never waits for a dashboard left open.
  app.addHook('preClose', async () => { ctx.events.close(); });

  app.get('/api/v1/events', {
    config: { role: 'read' },
    schema: {
      summary: 'Live changes as server-sent events: hello, change, correlations, node (and a keep-alive comment every 15 s)',
      querystring: NO_PARAMS,
      response: {
        200: {
          description: 'a stream of events, each `id:`, `event:` and one JSON `data:` line; the first also sets `retry:`',
          content: { [EVENT_STREAM]: { schema: z.string() } },
        },
        ...tokenRouteErrors('read'),
        503: ErrorBody.describe('as many streams are open as the collector allows (retry later), or the store cannot answer'),
      },
    },
  }, async (_req, reply) => {
    if (!ctx.events.hasRoom()) {
      return reply.code(503).header('retry-after', '10').send({ error: 'Service Unavailable', message: 'too many live streams are open' });
    }
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': `${EVENT_STREAM}; charset=utf-8`,
      'cache-control': 'no-store',
      // Proxies that buffer responses (nginx) would hold the events back.
      'x-accel-buffering': 'no',
    });
    reply.raw.flushHeaders();
    ctx.events.attach(reply.raw);
  });
};
