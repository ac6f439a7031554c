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

/** Kubernetes API objects the collector judges itself (findings of node `cluster`): RBAC objects, namespaces, pods. */
export const API_RESOURCE_KINDS = ['namespace', 'pod', 'serviceaccount', 'role', 'clusterrole', 'rolebinding', 'clusterrolebinding'] as const;

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
  z.object({ kind: z.enum(API_RESOURCE_KINDS), name: str, namespace: optStr }).passthrough(),
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

/**
 * The most the collector takes of one report; collector/ingest/validate.ts enforces them on every transport, each
 * breach a 400 (or a rejected message) naming the field. A real finding is about 400 characters of JSON and its
 * evidence value a few dozen, so these leave a wide margin while keeping one finding's cost bounded.
 */
export const REPORT_LIMITS = {
  /** Nesting of any JSON value in a report (an evidence value, an undeclared key's value). */
  maxDepth: 16,
  /** `evidence.value` as JSON, in characters. */
  evidenceValueChars: 16 * 1024,
  /** Keys an object carries beyond its schema's (kept for forward compatibility): how many, how long a name. */
  extraKeys: 32,
  keyChars: 128,
  /** Those keys' values as JSON, in characters, in all. */
  extraChars: 8 * 1024,
  /** The node info (roles, components, …) as JSON, in characters. */
  nodeInfoChars: 64 * 1024,
  /** Components named in the node info. */
  components: 256,
} as const;

/** Why a JSON value is over its limits. */
export type JsonExtentProblem = 'deep' | 'large' | 'long-key';

/**
 * Measures a JSON value against a depth and a size (characters of its JSON text, keys included) without recursion,
 * stopping at the first limit crossed: a hostile value 6,000 levels deep or 8 MB wide costs no more than the limit.
 */
export function jsonExtent(value: unknown, limits: { maxDepth: number; maxChars: number; keyChars?: number }): { chars: number; problem?: JsonExtentProblem } {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  let chars = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') chars += v.length + 2;
    else if (typeof v === 'number' || typeof v === 'boolean') chars += String(v).length;
    else if (v === null) chars += 4;
    else if (typeof v === 'object') {
      if (depth >= limits.maxDepth) return { chars, problem: 'deep' };
      chars += 2;
      if (Array.isArray(v)) {
        chars += v.length;
        if (chars > limits.maxChars) return { chars, problem: 'large' };
        for (const item of v) stack.push({ v: item, depth: depth + 1 });
      } else {
        for (const key of Object.keys(v)) {
          if (limits.keyChars !== undefined && key.length > limits.keyChars) return { chars, problem: 'long-key' };
          chars += key.length + 4;
          if (chars > limits.maxChars) return { chars, problem: 'large' };
          stack.push({ v: (v as Record<string, unknown>)[key], depth: depth + 1 });
        }
      }
    }
    if (chars > limits.maxChars) return { chars, problem: 'large' };
  }
  return { chars };
}
