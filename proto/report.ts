// The JSON report: what `vigil-agent scan --format json` prints and what the collector ingests.
// The zod schemas are the single source: types are inferred from them, and the collector validates
// everything that arrives from outside with the same schemas.
import { z } from 'zod';

import { SEVERITIES, STATUSES } from './findings.js';

export { SEVERITIES, STATUSES, severityRank, summarize } from './findings.js';

export const StatusSchema = z.enum(STATUSES);
export type Status = z.infer<typeof StatusSchema>;

export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

const str = z.string().max(4096);
const optStr = str.optional();

/** What a finding is about. `kind` picks the shape; extra keys are kept (passthrough) for forward compatibility. */
export const ResourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('node') }).passthrough(),
  z.object({ kind: z.literal('component'), component: str, pid: z.number().int().optional(), source: optStr }).passthrough(),
  z.object({ kind: z.literal('file'), path: str }).passthrough(),
  z.object({
    kind: z.literal('container'),
    id: str,
    namespace: optStr,
    pod: optStr,
    container: optStr,
    image: optStr,
    pid: z.number().int().optional(),
  }).passthrough(),
  z.object({
    kind: z.literal('port'),
    protocol: str,
    address: str,
    port: z.number().int(),
    pid: z.number().int().optional(),
    process: optStr,
  }).passthrough(),
  z.object({ kind: z.literal('certificate'), path: str, subject: optStr, notAfter: optStr }).passthrough(),
  z.object({ kind: z.literal('kernel'), key: str }).passthrough(),
]);
export type Resource = z.infer<typeof ResourceSchema>;

/** Where a verdict comes from: which source, which path, which key, which value, against what. */
export const EvidenceSchema = z.object({
  source: str,
  path: optStr,
  key: optStr,
  value: z.unknown().optional(),
  expected: optStr,
  detail: optStr,
}).passthrough();
export type Evidence = z.infer<typeof EvidenceSchema>;

export const FindingSchema = z.object({
  /** Stable across scans for the same check and resource. */
  id: z.string().min(1).max(200),
  checkId: z.string().min(1).max(200),
  cis: z.string().max(32).nullable(),
  status: StatusSchema,
  severity: SeveritySchema,
  title: str,
  component: z.string().max(64),
  resource: ResourceSchema,
  evidence: EvidenceSchema,
  remediation: z.string().max(8192),
  /** Pod Security Admission check id, for container findings. */
  pss: z.string().max(64).optional(),
  level: z.enum(['baseline', 'restricted']).optional(),
}).passthrough();
export type Finding = z.infer<typeof FindingSchema>;

export const SummarySchema = z.object({
  pass: z.number().int().nonnegative(),
  fail: z.number().int().nonnegative(),
  warn: z.number().int().nonnegative(),
  skip: z.number().int().nonnegative(),
  error: z.number().int().nonnegative(),
});
export type Summary = z.infer<typeof SummarySchema>;

const NodeInfoSchema = z.object({
  name: z.string().min(1).max(253),
  roles: z.array(z.string().max(64)).max(16),
  os: optStr,
  kernel: optStr,
  architecture: optStr,
  cpus: z.number().int().optional(),
  memoryBytes: z.number().optional(),
  components: z.record(z.string(), z.object({ version: optStr, source: optStr })).optional(),
  agentVersion: optStr,
}).passthrough();

export const NodeReportSchema = z.object({
  schemaVersion: z.literal(1),
  node: NodeInfoSchema,
  scannedAt: z.string().datetime({ offset: true }),
  findings: z.array(FindingSchema).max(200_000),
  summary: SummarySchema,
});
export type NodeReport = z.infer<typeof NodeReportSchema>;
