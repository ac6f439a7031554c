// The REST contract's response bodies as zod schemas: they type the handlers' results, document every response in
// the OpenAPI document, and (in tests) check every response the collector sends.
import { z } from 'zod';
import { FindingSchema, NodeReportSchema, ResourceSchema, SeveritySchema, StatusSchema, SummarySchema } from '../../proto/report.js';
import { CORRELATION_KINDS } from '../correlate/types.js';
import { FINDING_EVENTS, LIFECYCLE_STATUSES } from '../store/types.js';
import type { Role } from './auth.js';

/** RFC 3339 times in UTC, as `Date.prototype.toISOString` writes them. */
const Time = z.iso.datetime();

/** The request body of POST /api/v1/reports: the agent's report schema, named in the OpenAPI components. */
export const NodeReportBody = NodeReportSchema.meta({
  id: 'NodeReport', description: 'the JSON that `vigil-agent scan --format json` prints (proto/report.ts)',
});

export const ErrorBody = z.object({
  error: z.string().describe('HTTP status text'),
  message: z.string(),
  code: z.string().optional().describe('fastify error code, for errors raised before the route answers'),
});

export const BadParameterBody = z.object({
  error: z.literal('Bad Request'),
  message: z.string(),
  parameter: z.string().describe('the query or path parameter at fault'),
});

export const InvalidReportBody = z.object({
  error: z.literal('Bad Request'),
  message: z.string(),
  issues: z.array(z.string()).describe('what is wrong, one `path: problem` line each (at most 20)'),
});

const badParameter = BadParameterBody.describe('a bad or unknown query parameter (`parameter` names it)');
const internalError = ErrorBody.describe('the collector could not answer; its log says why');
const storeUnavailable = ErrorBody.describe('the store cannot answer: corrupt, unreadable, or its disk is full (`message` says which)');

/** The error responses of an open route (health, the OpenAPI document). */
export const OPEN_ROUTE_ERRORS = { 400: badParameter, 500: internalError };

/** The error responses of a route that needs a token with `role`. */
export function tokenRouteErrors(role: Role) {
  return {
    400: badParameter,
    401: ErrorBody.describe('no bearer token, or an unknown one'),
    403: ErrorBody.describe(`the token lacks the ${role} role`),
    500: internalError,
    503: storeUnavailable,
  };
}

const PassRateBody = z.object({
  pass: z.number().int(),
  fail: z.number().int(),
  warn: z.number().int(),
  rate: z.number().nullable().describe('pass / (pass + fail + warn), 4 decimals; null when nothing was judged'),
});

/** An agent's finding as stored, with its node and life on the collector. */
export const FindingView = FindingSchema.extend({
  node: z.string(),
  firstSeen: Time,
  lastSeen: Time.describe('open: the node\'s last scan; resolved: when last seen'),
  changedAt: Time.describe('new, status or content change, or reopened'),
  resolvedAt: Time.nullable(),
});

export const FindingsPage = z.object({
  items: z.array(FindingView),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
});

/** Counts by severity, every severity present. */
const SeverityCountsBody = z.object({
  critical: z.number().int(), high: z.number().int(), medium: z.number().int(), low: z.number().int(), info: z.number().int(),
});

export const NodeView = z.object({
  name: z.string(),
  roles: z.array(z.string()),
  lastReport: Time.describe('when the collector last received a report or delta'),
  lastScan: Time.describe('the agent\'s scan time of that report'),
  firstSeen: Time,
  agentVersion: z.string().nullable(),
  status: z.enum(['reporting', 'silent']),
  summary: SummarySchema.describe('open findings by status'),
  failingBySeverity: SeverityCountsBody.describe('open failing findings by severity'),
  passRate: z.number().nullable(),
});

export const NodesPage = z.object({
  items: z.array(NodeView),
  nextCursor: z.string().nullable(),
});

export const NodeDetail = NodeView.extend({
  lastSeq: z.number().int().nullable(),
  info: z.record(z.string(), z.unknown()).describe('the node info of its last full report (os, kernel, components, …)'),
  findings: z.array(FindingView).describe('current findings, problems first (fail, error, warn, pass, skip), each most severe first'),
  findingsTruncated: z.boolean(),
  history: z.object({
    events: z.array(z.object({
      node: z.string(),
      findingId: z.string(),
      checkId: z.string(),
      at: Time,
      status: z.enum(LIFECYCLE_STATUSES),
      event: z.enum(FINDING_EVENTS),
    })).describe('status changes, newest first'),
    scores: z.array(z.object({ at: Time, summary: SummarySchema, passRate: z.number().nullable() })).describe('newest first'),
  }),
});

export const ChecksList = z.object({
  items: z.array(z.object({
    checkId: z.string(),
    cis: z.string().nullable(),
    title: z.string(),
    component: z.string(),
    severity: SeveritySchema,
    counts: SummarySchema.describe('open findings of this check by status, across nodes'),
    passRate: z.number().nullable(),
  })),
});

const CorrelationView = z.object({
  id: z.string().describe('stable for the same rule and subject'),
  kind: z.enum(CORRELATION_KINDS),
  rule: z.string(),
  severity: SeveritySchema,
  title: z.string(),
  nodes: z.array(z.string()),
  evidence: z.array(z.object({
    node: z.string(),
    findingId: z.string(),
    checkId: z.string(),
    status: z.string().optional(),
    value: z.unknown().optional(),
  })),
  detail: z.string().optional(),
  role: z.string().optional().describe('drift: the role set compared (sorted, comma-joined; `none` without roles)'),
  baseline: z.object({
    value: z.unknown().optional().describe('the value most nodes of the role have (evidence.value)'),
    status: z.string().optional().describe('for checks without a value: the status most nodes of the role have'),
    nodes: z.number().int().describe('how many nodes have it'),
    of: z.number().int().describe('of how many nodes of the role that report this finding'),
  }).optional().describe('drift: what most nodes of the role have'),
});

export const CorrelationsList = z.object({
  items: z.array(CorrelationView),
  total: z.number().int().describe('matches before `limit`'),
  computedAt: Time,
});

export const RulesList = z.object({
  items: z.array(z.object({ id: z.string(), kind: z.enum(CORRELATION_KINDS), description: z.string() })),
});

const PassRates = z.record(z.string(), PassRateBody);

/** The cluster's score as kept in its history. */
export const ScoreSnapshot = z.object({ cluster: PassRateBody, components: PassRates, sections: PassRates });

export const SummaryBody = z.object({
  nodes: z.object({ total: z.number().int(), reporting: z.number().int(), silent: z.number().int() }),
  findings: z.object({
    open: z.record(StatusSchema, z.number().int()).describe('open findings by status'),
    failingBySeverity: z.record(SeveritySchema, z.number().int()),
  }),
  correlations: z.record(z.enum(CORRELATION_KINDS), z.number().int()),
  score: ScoreSnapshot,
  computedAt: Time,
});

export const ScoreBody = ScoreSnapshot.extend({
  nodes: z.array(PassRateBody.extend({ name: z.string() })),
  history: z.array(z.object({ at: Time, score: ScoreSnapshot })).describe('cluster score points, newest first'),
  computedAt: Time,
});

export const IngestAnswer = z.object({
  applied: z.boolean(),
  duplicate: z.boolean(),
  lastSeq: z.number().int().optional().describe('highest sequence number stored for the node (streaming agents)'),
  node: z.string(),
  findings: z.number().int().describe('findings in the report'),
});

export const TrendBody = z.object({
  step: z.enum(['1h', '1d']),
  from: Time,
  to: Time,
  points: z.array(z.object({
    at: Time.describe('the start of the hour (or day) the point stands for'),
    failing: SeverityCountsBody.describe('open failing findings by severity'),
    open: SummarySchema.describe('open findings by status'),
  })).describe('in time order; an hour without a sample (collector down) is absent, not zero'),
});

const FindingEventKindBody = z.enum(FINDING_EVENTS).describe('new (its first status), changed (status), resolved, reopened');

export const ChangesPage = z.object({
  items: z.array(z.object({
    at: Time,
    node: z.string(),
    findingId: z.string(),
    checkId: z.string(),
    event: FindingEventKindBody,
    status: z.enum(LIFECYCLE_STATUSES).describe('the status it changed to'),
    severity: SeveritySchema,
    title: z.string(),
    component: z.string(),
  })).describe('newest first'),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
});

export const NodeHistoryPage = z.object({
  items: z.array(z.object({
    findingId: z.string(),
    checkId: z.string(),
    title: z.string(),
    severity: SeveritySchema,
    component: z.string(),
    resource: ResourceSchema,
    status: z.enum(LIFECYCLE_STATUSES).describe('now: resolved, or the open finding\'s status'),
    openedAt: Time.nullable().describe('when it last started failing; null when it never failed'),
    resolvedAt: Time.nullable().describe('when it was resolved; null while open'),
    events: z.array(z.object({ at: Time, event: FindingEventKindBody, status: z.enum(LIFECYCLE_STATUSES) }))
      .describe('its first status (when in the window) and its status changes in the window, newest first'),
  })).describe('findings that failed, were resolved or changed status in the window, most recent activity first'),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
});

export const HealthBody = z.object({ status: z.literal('ok') });

export const ReadyBody = z.object({ status: z.literal('ready'), store: z.enum(['sqlite', 'postgres']) });

export const NotReadyBody = z.union([
  z.object({ status: z.literal('closing') }),
  z.object({
    status: z.literal('store unavailable'),
    message: z.string(),
    fault: z.enum(['disk-full', 'corrupt', 'io']).optional().describe('what is wrong with the store, when known'),
  }),
]);

export const OpenApiDocument = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});

export type FindingViewT = z.infer<typeof FindingView>;
export type NodeViewT = z.infer<typeof NodeView>;
