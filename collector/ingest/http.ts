// POST /api/v1/reports: the JSON document `vigil-agent scan --format json` prints, as a full report.
import type { RouteDef } from '../serve/context.js';
import { IngestValidationError } from './types.js';
import { validateReportDocument } from './validate.js';

export const reportsRoute: RouteDef = {
  method: 'POST',
  url: '/api/v1/reports',
  role: 'report',
  summary: 'Ingest one node report (the output of `vigil-agent scan --format json`) as a full snapshot',
  responses: {
    200: '{ applied, duplicate, node, findings }',
    400: '{ error, message, issues[] }: not a valid report; nothing was stored',
    413: 'larger than --max-report-size',
    415: 'not application/json',
  },
  async handler(ctx, _query, req, reply) {
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      return reply.code(415).send({ error: 'Unsupported Media Type', message: 'send the report as application/json' });
    }
    let message;
    try {
      message = validateReportDocument(req.body);
    } catch (err) {
      if (!(err instanceof IngestValidationError)) throw err;
      ctx.metrics.ingestMessages.inc({ kind: 'full', result: 'invalid' });
      return reply.code(400).send({ error: 'Bad Request', message: err.message, issues: err.issues });
    }
    const result = await ctx.ingestor.enqueue(message);
    return { ...result, node: message.node, findings: message.kind === 'full' ? message.report.findings.length : 0 };
  },
};
