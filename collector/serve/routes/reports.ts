// POST /api/v1/reports: the JSON document `vigil-agent scan --format json` prints, stored as a full report.
import { z } from 'zod';
import { validateReport } from '../../ingest/validate.js';
import { IngestValidationError } from '../../ingest/types.js';
import { documentedOnly, InvalidBody } from '../compilers.js';
import type { RoutePlugin } from '../context.js';
import { NO_PARAMS } from '../params.js';
import { BadParameterBody, ErrorBody, IngestAnswer, InvalidReportBody, NodeReportBody, tokenRouteErrors } from '../schemas.js';

const JSON_BODY = /^application\/json\s*(;|$)/i;

export const reportsRoutes: RoutePlugin = async (app, { ctx }) => {
  // A report that fails the schema or a limit is counted and answered with what is wrong; other errors go up to the app's handler.
  app.setErrorHandler(async (err, _req, reply) => {
    if (!(err instanceof InvalidBody) && !(err instanceof IngestValidationError)) throw err;
    ctx.metrics.ingestMessages.inc({ kind: 'full', result: 'invalid' });
    return reply.code(400).send({ error: 'Bad Request', message: `invalid report: ${err.issues[0]}`, issues: err.issues });
  });

  app.post('/api/v1/reports', {
    config: { role: 'report' },
    bodyLimit: ctx.maxReportBytes,
    schema: {
      summary: 'Ingest one node report (the output of `vigil-agent scan --format json`) as a full snapshot',
      querystring: NO_PARAMS,
      // Checked by the handler (ingest/validate.ts), a slice at a time, with the limits every transport applies.
      body: documentedOnly(NodeReportBody),
      response: {
        200: IngestAnswer.describe('stored (or a duplicate, which changed nothing)'),
        ...tokenRouteErrors('report'),
        400: z.union([InvalidReportBody, BadParameterBody, ErrorBody])
          .describe('not a valid report (`issues` says why, naming the field; nothing was stored), not JSON, or a bad parameter'),
        413: ErrorBody.describe('larger than --max-report-size'),
        415: ErrorBody.describe('not application/json'),
        507: ErrorBody.describe('the disk holding the store is full; nothing was stored (send it again later)'),
      },
    },
    preValidation: async (req, reply) => {
      if (JSON_BODY.test(req.headers['content-type'] ?? '')) return;
      return reply.code(415).send({ error: 'Unsupported Media Type', message: 'send the report as application/json' });
    },
  }, async (req) => {
    const report = await validateReport(req.body);
    const result = await ctx.ingestor.enqueue({ kind: 'full', node: report.node.name, report });
    return { ...result, node: report.node.name, findings: report.findings.length };
  });
};
