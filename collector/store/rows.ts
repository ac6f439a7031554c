// Mapping between findings and the columns both stores keep. Denormalised columns exist only to filter and sort.
import { createHash, hash } from 'node:crypto';
import { isRecord } from '../../common/json.js';
import { severityRank, type Finding, type Severity, type Status, type Summary } from '../../proto/report.js';
import type { IdentityKind } from './messages.js';
import type {
  ChangeRecord, CheckRecord, FindingEventKind, LifecycleStatus, NodeRecord, SeverityCounts, StoredFinding, TrendSample,
} from './types.js';
import { STATUS_RANK, type ChangeRowOut, type FindingRowOut } from './sql.js';

export interface FindingColumns {
  fid: string;
  checkId: string;
  status: Status;
  severity: Severity;
  sevRank: number;
  statusRank: number;
  resourceKind: string;
  namespace: string | null;
  pod: string | null;
  evidenceKey: string | null;
  pss: string | null;
  valueKey: string | null;
  body: string;
  /** bodyHash(body): what the next report's finding is compared with, instead of the stored body. */
  hash: string;
}

const MAX_VALUE_KEY = 512;

/** Canonical JSON (sorted keys) so equal settings compare equal across nodes. */
export function valueKey(value: unknown): string | null {
  if (value === undefined) return null;
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (isRecord(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
    return v;
  };
  const text = JSON.stringify(canonical(value)) ?? null;
  if (text === null || text.length <= MAX_VALUE_KEY) return text;
  return `sha1:${createHash('sha1').update(text).digest('base64')}`;
}

/**
 * A finding's stored JSON in 27 characters: an unchanged finding is recognised without reading its body back.
 * SHA-1 because it is the cheapest digest here (0.7 µs for a typical finding); it guards against accidents, not
 * attackers: a node that forged a collision would only hide a change of its own finding.
 */
export const bodyHash = (body: string): string => hash('sha1', body, 'base64').slice(0, 27);

/** The columns of a finding; `body` and `hash` when the caller already has them (the plan computes them first). */
export function findingColumns(f: Finding, body = JSON.stringify(f), bodyDigest = bodyHash(body)): FindingColumns {
  const container = f.resource.kind === 'container' ? f.resource : undefined;
  return {
    fid: f.id,
    checkId: f.checkId,
    status: f.status,
    severity: f.severity,
    sevRank: severityRank(f.severity),
    statusRank: STATUS_RANK[f.status],
    resourceKind: f.resource.kind,
    namespace: container?.namespace ?? null,
    pod: container?.pod ?? null,
    evidenceKey: f.evidence.key ?? null,
    pss: f.pss ?? null,
    valueKey: valueKey(f.evidence.value),
    body,
    hash: bodyDigest,
  };
}

export const emptySummary = (): Summary => ({ pass: 0, fail: 0, warn: 0, skip: 0, error: 0 });

export const emptySeverityCounts = (): SeverityCounts => ({ critical: 0, high: 0, medium: 0, low: 0, info: 0 });

interface SeverityRow { fail_critical: number; fail_high: number; fail_medium: number; fail_low: number; fail_info: number }

function severityCountsOf(row: SeverityRow): SeverityCounts {
  return {
    critical: Number(row.fail_critical), high: Number(row.fail_high), medium: Number(row.fail_medium),
    low: Number(row.fail_low), info: Number(row.fail_info),
  };
}

function summaryOf(row: { pass: number; fail: number; warn: number; skip: number; error: number }): Summary {
  return { pass: Number(row.pass), fail: Number(row.fail), warn: Number(row.warn), skip: Number(row.skip), error: Number(row.error) };
}

export const sameSummary = (a: Summary, b: Summary): boolean =>
  a.pass === b.pass && a.fail === b.fail && a.warn === b.warn && a.skip === b.skip && a.error === b.error;

/** Role set as one comparable key: sorted, comma-joined; `none` for a node without roles. */
export const roleKey = (roles: readonly string[]): string => (roles.length ? [...roles].sort().join(',') : 'none');

export function toStoredFinding(row: FindingRowOut): StoredFinding {
  const resolvedAt = row.resolved_at === null ? null : Number(row.resolved_at);
  return {
    node: row.node,
    finding: JSON.parse(row.body) as Finding,
    firstSeen: Number(row.first_seen),
    changedAt: Number(row.changed_at),
    resolvedAt,
    lastSeen: resolvedAt === null ? Number(row.last_scan) : Number(row.last_seen),
  };
}

export interface NodeRowOut extends SeverityRow {
  name: string; roles: string; agent_version: string | null; info?: string; first_seen: number; last_report: number;
  last_scan: number; last_seq: number | null; pass: number; fail: number; warn: number; skip: number; error: number;
  epoch?: string | null; seq_scan?: number | null; identity_kind?: string | null; identity_subject?: string | null;
  bound_at?: number | null;
}

const numberOrNull = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

export function toNodeRecord(row: NodeRowOut): NodeRecord {
  return {
    name: row.name,
    roles: JSON.parse(row.roles) as string[],
    agentVersion: row.agent_version,
    info: row.info === undefined ? {} : JSON.parse(row.info) as Record<string, unknown>,
    firstSeen: Number(row.first_seen),
    lastReport: Number(row.last_report),
    lastScan: Number(row.last_scan),
    lastSeq: numberOrNull(row.last_seq),
    epoch: row.epoch ?? null,
    seqScan: numberOrNull(row.seq_scan),
    identity: row.identity_kind ? { kind: row.identity_kind as IdentityKind, subject: row.identity_subject ?? '' } : null,
    boundAt: numberOrNull(row.bound_at),
    summary: summaryOf(row),
    failingBySeverity: severityCountsOf(row),
  };
}

export interface CheckRowOut { check_id: string; cis: string | null; title: string; component: string; severity: Severity }

export function toCheckRecords(checks: CheckRowOut[], counts: Array<{ check_id: string; status: Status; n: number }>): CheckRecord[] {
  const byId = new Map<string, CheckRecord>();
  for (const c of checks) {
    byId.set(c.check_id, { checkId: c.check_id, cis: c.cis, title: c.title, component: c.component, severity: c.severity, counts: emptySummary() });
  }
  for (const c of counts) {
    const rec = byId.get(c.check_id);
    if (rec) rec.counts[c.status] += Number(c.n);
  }
  return [...byId.values()].sort((a, b) => a.checkId.localeCompare(b.checkId));
}

export interface TrendRowOut extends SeverityRow { at: number; pass: number; fail: number; warn: number; skip: number; error: number }

export function toTrendSample(row: TrendRowOut): TrendSample {
  return { at: Number(row.at), failing: severityCountsOf(row), open: summaryOf(row) };
}

export function toChangeRecord(row: ChangeRowOut): ChangeRecord {
  return {
    at: Number(row.at),
    node: row.node,
    findingId: row.fid,
    checkId: row.check_id,
    event: row.event as FindingEventKind,
    status: row.status as LifecycleStatus,
    finding: JSON.parse(row.body) as Finding,
    seq: Number(row.id),
  };
}
