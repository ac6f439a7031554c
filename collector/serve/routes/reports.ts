// POST /api/v1/reports: the JSON document `vigil-agent scan --format json` prints, stored as a full report. The
// caller may write the report's node only if nothing ties it elsewhere: a ServiceAccount token or a bound REST
// token names its nodes, and a node that reports with an identity of its own takes no unbound token's report.
import { z } from 'zod';
import { deliveryMetrics } from '../../ingest/ingestor.js';
import { writerOf } from '../../ingest/identity.js';
import { IngestValidationError, ReservedNodeError } from '../../ingest/types.js';
import { validateReport } from '../../ingest/validate.js';
import { callerOf } from '../auth.js';
import { documentedOnly, InvalidBody } from '../compilers.js';
import type { RoutePlugin } from '../context.js';
import { NO_PARAMS } from '../params.js';
import { BadParameterBody, ErrorBody, IngestAnswer, InvalidReportBody, NodeReportBody, tokenRouteErrors } from '../schemas.js';

const JSON_BODY = /^application\/json\s*(;|$)/i;

export const reportsRoutes: RoutePlugin = async (app, { ctx }) => {
  const refusals = deliveryMetrics(ctx.metrics.registry);
  // A report that fails the schema or a limit is counted and answered with what is wrong; other errors (a reserved
  // node's 403 among them) go up to the app's handler.
  app.setErrorHandler(async (err, _req, reply) => {
    if (err instanceof ReservedNodeError || (!(err instanceof InvalidBody) && !(err instanceof IngestValidationError))) throw err;
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
        401: ErrorBody.describe('no bearer token, an unknown one, or a ServiceAccount token that does not verify'),
        403: ErrorBody.describe('the token lacks the report role, or may not write this node (bound to other nodes, or the '
          + 'node reports with an identity of its own)'),
        400: z.union([InvalidReportBody, BadParameterBody, ErrorBody])
          .describe('not a valid report (`issues` says why, naming the field; nothing was stored), not JSON, or a bad parameter'),
        413: ErrorBody.describe('larger than --max-report-size'),
        415: ErrorBody.describe('not application/json'),
        503: ErrorBody.describe('the ServiceAccount signing keys cannot be fetched right now, or the store is corrupt or cannot be read'),
        507: ErrorBody.describe('the disk holding the store is full; nothing was stored (send it again later)'),
      },
    },
    preValidation: async (req, reply) => {
      if (JSON_BODY.test(req.headers['content-type'] ?? '')) return;
      return reply.code(415).send({ error: 'Unsupported Media Type', message: 'send the report as application/json' });
    },
  }, async (req, reply) => {
    // The caller was authenticated before the body was read (the onRequest hook); the body is checked here, a slice
    // at a time, with the limits every transport applies.
    const report = await validateReport(req.body);
    const node = report.node.name;
    const caller = callerOf(req);
    const who = { transport: 'rest', peer: req.ip, identity: caller.kind, ...caller.detail, reportNode: node };
    const refuse = (reason: string, message: string) => {
      refusals.refused('rest', reason);
      req.log.warn({ ...who, reason }, `refused a report: ${message}`);
      return reply.code(403).send({ error: 'Forbidden', message });
    };
    if (caller.nodes && !caller.nodes.includes(node)) {
      return refuse('node-mismatch', `this ${caller.kind === 'token' ? 'token' : 'ServiceAccount token'} may only report for ${caller.nodes.join(', ')}`);
    }
    const result = await ctx.ingestor.enqueue({ kind: 'full', node, report, writer: writerOf(caller) });
    if (result.refused) return refuse(result.refused.reason, result.refused.message);
    req.log.info({ ...who, subject: caller.subject, findings: report.findings.length, applied: result.applied }, 'report stored');
    return { applied: result.applied, duplicate: result.duplicate, ...(result.lastSeq === undefined ? {} : { lastSeq: result.lastSeq }),
      node, findings: report.findings.length };
  });
};
