// PostgreSQL store (`--database-url`): for large clusters and several collector replicas sharing one database.
// Each message locks its node row (SELECT ... FOR UPDATE), so replicas never interleave one node's writes.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { isRecord } from '../../common/json.js';
import type { IngestMessage, IngestResult } from './messages.js';
import { planSteps, type CheckMeta, type ExistingFinding, type IngestPlan } from './plan.js';
import { admit, ChangeTotals, CheckMetaCache, CountTotals, nodeWrite, Observers, touchedIds } from './apply.js';
import { StoreHealth } from './errors.js';
import { buildHistory, type HistoryEventRow } from './history.js';
import { runMigrations } from './migrations.js';
import { runStepsSliced, TimeSlicer } from './slices.js';
import {
  toChangeRecord, toCheckRecords, toNodeRecord, toStoredFinding, toTrendSample, type CheckRowOut, type FindingColumns, type NodeRowOut,
  type TrendRowOut,
} from './rows.js';
import {
  changesQuery, checksMatchingQuery, factsQuery, findingsQuery, historyFindingsQuery, nodesQuery, sortKeyOf,
  type ChangeRowOut, type FindingRowOut, type HistoryRowOut,
} from './sql.js';
import { hourOf } from './trend.js';
import type {
  CorrelationHead, CorrelationWrite, LeaderLease, LeaderTerm, NodeHead, StoredCorrelationResult,
  ChangeKey, ChangeRecord, ChangesQuery, CheckRecord, FactSelector, OpenCount, FindingEvent, FindingQuery, HistoryQuery,
  HistoryRecord, NodeQuery, NodeRecord, Page, ScorePoint, SeqPosition, SettingRow, Store, StoredChanges, StoredFinding,
  TrendSample,
} from './types.js';

const INT8_OID = 20;
/** Times are ms since the epoch: far inside Number's exact range, so BIGINT comes back as a number. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Rows per statement when a large plan is written: each statement's arrays are built and sent in one go. */
const ROWS_PER_STATEMENT = 2_000;

function* chunks<T>(items: readonly T[]): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT) yield items.slice(i, i + ROWS_PER_STATEMENT);
}

/** Arbitrary constant naming the migration advisory lock. */
const MIGRATION_LOCK = 0x76_69_67_69;

/** Every replica hears what every other one stored (observe): NOTIFY at commit on this channel. */
const CHANGES_CHANNEL = 'vigil_changes';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; node names are dropped (truncated) to stay below. */
const MAX_PAYLOAD = 7000;
const RELISTEN_MS = 2000;

interface PostgresOptions {
  maxConnections?: number;
  onPoolError?: (err: Error) => void;
}

/** The NOTIFY payload: what a transaction changed, and which store (process) committed it. */
function changesPayload(origin: string, changes: StoredChanges): string {
  const nodes = [...changes.nodes];
  let truncated = changes.truncated;
  for (;;) {
    const text = JSON.stringify({ origin, ...changes, nodes, truncated });
    if (text.length < MAX_PAYLOAD || nodes.length === 0) return text;
    nodes.splice(Math.floor(nodes.length / 2));
    truncated = true;
  }
}

function parsePayload(text: string): { origin: unknown; changes: StoredChanges } | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (!isRecord(v) || !Array.isArray(v.nodes) || !v.nodes.every((n) => typeof n === 'string')) return undefined;
    const count = (x: unknown): number => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
    return {
      origin: v.origin,
      changes: { nodes: v.nodes as string[], truncated: v.truncated === true, opened: count(v.opened), changed: count(v.changed), resolved: count(v.resolved) },
    };
  } catch {
    return undefined;
  }
}

/** What a plan reads of a stored finding: the body only of rows stored before their hash was (see ExistingFinding). */
const existingColumns = (f: string): string => `${f}fid, ${f}check_id AS "checkId", ${f}status, ${f}severity, ${f}hash, `
  + `CASE WHEN ${f}hash IS NULL THEN ${f}body END AS body, ${f}resolved_at AS "resolvedAt"`;

type NodeWrite = ReturnType<typeof nodeWrite>;

/**
 * Changed findings' rows as one JSON document: V8 writes it natively, where array parameters are escaped element by
 * element in JavaScript (a third of the write path's time with findings' quote-laden bodies).
 */
const findingRows = (part: ReadonlyArray<[string, number, FindingColumns]>): string =>
  JSON.stringify(part.map(([node, at, u]) => ({ node, at, ...u })));

const upsertFindings = `INSERT INTO findings (node, fid, check_id, status, severity, sev_rank, status_rank, resource_kind, namespace, pod,
    evidence_key, pss, value_key, body, hash, first_status, first_seen, changed_at)
  SELECT u.node, u.fid, u."checkId", u.status, u.severity, u."sevRank", u."statusRank", u."resourceKind", u.namespace, u.pod,
    u."evidenceKey", u.pss, u."valueKey", u.body, u.hash, u.status, u.at, u.at
  FROM json_to_recordset($1::json) AS u(node text, at bigint, fid text, "checkId" text, status text, severity text,
    "sevRank" int, "statusRank" int, "resourceKind" text, namespace text, pod text, "evidenceKey" text, pss text,
    "valueKey" text, body text, hash text)
  ON CONFLICT (node, fid) DO UPDATE SET check_id = excluded.check_id,
    status = excluded.status, severity = excluded.severity, sev_rank = excluded.sev_rank, status_rank = excluded.status_rank,
    resource_kind = excluded.resource_kind, namespace = excluded.namespace, pod = excluded.pod,
    evidence_key = excluded.evidence_key, pss = excluded.pss, value_key = excluded.value_key, body = excluded.body,
    hash = excluded.hash, changed_at = excluded.changed_at, last_seen = NULL, resolved_at = NULL`;

/**
 * New findings go in by COPY: PostgreSQL reads its text format for a quarter of the CPU it spends parsing the same
 * rows from JSON or array parameters (a plain insert is right: their node's row lock keeps every other writer out).
 */
const COPY_FINDINGS = `COPY findings (node, fid, check_id, status, severity, sev_rank, status_rank, resource_kind, namespace, pod,
  evidence_key, pss, value_key, body, hash, first_status, first_seen, changed_at) FROM STDIN`;

const COPY_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: NULL as \N; backslash, tab and line breaks escaped. */
function copyField(v: string | number | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]) : v;
}

function copyRows(part: ReadonlyArray<[string, number, FindingColumns]>): string {
  let text = '';
  for (const [node, at, u] of part) {
    text += [node, u.fid, u.checkId, u.status, u.severity, u.sevRank, u.statusRank, u.resourceKind, u.namespace, u.pod, u.evidenceKey,
      u.pss, u.valueKey, u.body, u.hash, u.status, at, at].map(copyField).join('\t') + '\n';
  }
  return text;
}

/** A segment's rows, written together: one statement per table (per ROWS_PER_STATEMENT rows), whatever the messages. */
class SegmentWrites {
  /** [node, fid, resolved at, last seen] */
  readonly resolve: Array<[string, string, number, number]> = [];
  /** [node, at, columns] of findings new to their node */
  readonly inserts: Array<[string, number, FindingColumns]> = [];
  /** [node, at, columns] of changed or reopened ones */
  readonly upserts: Array<[string, number, FindingColumns]> = [];
  /** [node, at, event] */
  readonly events: Array<[string, number, IngestPlan['events'][number]]> = [];
  readonly checks = new Map<string, CheckMeta>();
  readonly nodes: NodeWrite[] = [];

  async flush(c: pg.PoolClient): Promise<void> {
    for (const r of chunks(this.resolve)) {
      await c.query(`UPDATE findings f SET resolved_at = u.at, last_seen = u.last_seen
        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS u(node, fid, at, last_seen)
        WHERE f.node = u.node AND f.fid = u.fid`, [r.map((x) => x[0]), r.map((x) => x[1]), r.map((x) => x[2]), r.map((x) => x[3])]);
    }
    for (const part of chunks(this.inserts)) await pipeline(Readable.from([copyRows(part)]), c.query(copyFrom(COPY_FINDINGS)));
    for (const part of chunks(this.upserts)) await c.query(upsertFindings, [findingRows(part)]);
    for (const part of chunks(this.events)) {
      const e = part.map((x) => x[2]);
      await c.query(`INSERT INTO finding_events (node, fid, check_id, at, status, event)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])`,
      [part.map((x) => x[0]), e.map((x) => x.findingId), e.map((x) => x.checkId), part.map((x) => x[1]), e.map((x) => x.status),
        e.map((x) => x.event)]);
    }
    for (const part of chunks([...this.checks.values()])) {
      await c.query(`INSERT INTO checks (check_id, cis, title, component, severity)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
        ON CONFLICT (check_id) DO UPDATE SET cis = excluded.cis, title = excluded.title,
          component = excluded.component, severity = excluded.severity`,
      [part.map((x) => x.checkId), part.map((x) => x.cis), part.map((x) => x.title), part.map((x) => x.component),
        part.map((x) => x.severity)]);
    }
    for (const n of chunks(this.nodes)) {
      const col = <T>(f: (w: NodeWrite) => T): T[] => n.map(f);
      await c.query(`UPDATE nodes SET roles = u.roles, role_key = u.role_key, agent_version = u.agent_version, info = u.info,
          first_seen = u.first_seen, last_report = u.last_report, last_scan = u.last_scan, last_seq = u.last_seq, pass = u.pass,
          fail = u.fail, warn = u.warn, skip = u.skip, error = u.error, fail_critical = u.fail_critical, fail_high = u.fail_high,
          fail_medium = u.fail_medium, fail_low = u.fail_low, fail_info = u.fail_info, epoch = u.epoch, seq_scan = u.seq_scan,
          identity_kind = u.identity_kind, identity_subject = u.identity_subject, bound_at = u.bound_at
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],
          $10::int[], $11::int[], $12::int[], $13::int[], $14::int[], $15::int[], $16::int[], $17::int[], $18::int[], $19::int[],
          $20::text[], $21::bigint[], $22::text[], $23::text[], $24::bigint[])
          AS u(name, roles, role_key, agent_version, info, first_seen, last_report, last_scan, last_seq, pass, fail, warn, skip, error,
            fail_critical, fail_high, fail_medium, fail_low, fail_info, epoch, seq_scan, identity_kind, identity_subject, bound_at)
        WHERE nodes.name = u.name`,
      [col((w) => w.name), col((w) => JSON.stringify(w.roles)), col((w) => w.roleKey), col((w) => w.agentVersion), col((w) => w.info),
        col((w) => w.firstSeen), col((w) => w.lastReport), col((w) => w.lastScan), col((w) => w.lastSeq),
        col((w) => w.summary.pass), col((w) => w.summary.fail), col((w) => w.summary.warn), col((w) => w.summary.skip),
        col((w) => w.summary.error), col((w) => w.failing.critical), col((w) => w.failing.high), col((w) => w.failing.medium),
        col((w) => w.failing.low), col((w) => w.failing.info), col((w) => w.epoch), col((w) => w.seqScan),
        col((w) => w.identity?.kind ?? null), col((w) => w.identity?.subject ?? null), col((w) => w.boundAt)]);
      const scored = n.filter((w) => w.scoreChanged);
      if (scored.length > 0) {
        await c.query(`INSERT INTO node_scores (node, at, pass, fail, warn, skip, error)
          SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[])`,
        [scored.map((w) => w.name), scored.map((w) => w.lastScan), scored.map((w) => w.summary.pass), scored.map((w) => w.summary.fail),
          scored.map((w) => w.summary.warn), scored.map((w) => w.summary.skip), scored.map((w) => w.summary.error)]);
      }
    }
  }
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly checkCache = new CheckMetaCache();
  private readonly health = new StoreHealth();
  private readonly observers = new Observers();
  /** Names this process in NOTIFY payloads: its own commits reach its observers directly, not through LISTEN. */
  private readonly origin = randomUUID();
  private listener: pg.Client | undefined;
  private relisten: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly connectionString: string, private readonly opts: PostgresOptions = {}) {
    this.pool = new pg.Pool({ connectionString, max: opts.maxConnections ?? 8, types });
    // An idle client losing its connection must not crash the collector; the next query reconnects.
    this.pool.on('error', (err) => opts.onPoolError?.(err));
  }

  async migrate(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      return await runMigrations({ dialect: 'postgres', query: async (sql, values) => (await client.query(sql, values)).rows });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  /** Readiness: real queries; after a failed write, a probe write must succeed too. */
  async ping(): Promise<void> {
    await this.health.read(async () => {
      await this.pool.query('SELECT MAX(version) FROM schema_migrations');
      await this.pool.query('SELECT name FROM nodes ORDER BY name LIMIT 1');
      await this.pool.query('SELECT fid FROM findings ORDER BY node, fid LIMIT 1');
    });
    if (this.health.writeFailing) {
      await this.health.write(() => this.pool.query(
        'INSERT INTO store_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at', [Date.now()]));
    }
    const fault = this.health.fault;
    if (fault) throw fault;
  }

  /**
   * Locks the named nodes' rows (in name order, so replicas locking overlapping sets wait rather than deadlock); a
   * node never seen gets a placeholder row to lock, which nodeWrite fills in (undefined in the answer). Another
   * replica may win a placeholder's insert: then its row is locked like any other.
   */
  private async lockNodes(c: pg.PoolClient, names: readonly string[], at: number): Promise<Map<string, NodeRecord | undefined>> {
    const locked = new Map<string, NodeRecord | undefined>();
    let wanted = [...names].sort();
    while (wanted.length > 0) {
      const found = await c.query<NodeRowOut>('SELECT * FROM nodes WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE', [wanted]);
      for (const row of found.rows) locked.set(row.name, toNodeRecord(row));
      const missing = wanted.filter((n) => !locked.has(n));
      if (missing.length === 0) break;
      const inserted = await c.query<{ name: string }>(`INSERT INTO nodes (name, roles, role_key, info, first_seen, last_report, last_scan)
        SELECT n, '[]', 'none', '{}', $2, $2, $2 FROM unnest($1::text[]) AS n ON CONFLICT (name) DO NOTHING RETURNING name`, [missing, at]);
      for (const row of inserted.rows) locked.set(row.name, undefined);
      wanted = missing.filter((n) => !locked.has(n));
    }
    return locked;
  }

  /** The stored findings the plans need, by node: all of a full report's node, the named ones of a delta. */
  private async existingOf(c: pg.PoolClient, messages: readonly IngestMessage[]): Promise<Map<string, ExistingFinding[]>> {
    const byNode = new Map<string, ExistingFinding[]>(messages.map((m) => [m.node, []]));
    const fulls = messages.filter((m) => m.kind === 'full').map((m) => m.node);
    const named: Array<[string, string]> = messages.filter((m) => m.kind === 'delta').flatMap((m) => touchedIds(m).map((fid): [string, string] => [m.node, fid]));
    const add = (rows: Array<ExistingFinding & { node: string }>): void => { for (const r of rows) byNode.get(r.node)!.push(r); };
    if (fulls.length > 0) {
      add((await c.query<ExistingFinding & { node: string }>(`SELECT node, ${existingColumns('')} FROM findings WHERE node = ANY($1::text[])`,
        [fulls])).rows);
    }
    for (const part of chunks(named)) {
      add((await c.query<ExistingFinding & { node: string }>(`SELECT f.node, ${existingColumns('f.')}
        FROM unnest($1::text[], $2::text[]) AS t(node, fid) JOIN findings f ON f.node = t.node AND f.fid = t.fid`,
      [part.map((x) => x[0]), part.map((x) => x[1])])).rows);
    }
    return byNode;
  }

  /**
   * One batch's messages in segments of distinct nodes (a node's second message in a batch starts the next one: it
   * is planned on what the first wrote). Each segment costs a fixed number of statements, not a few per message.
   */
  private async applySegment(c: pg.PoolClient, messages: ReadonlyArray<{ index: number; message: IngestMessage }>, receivedAt: number,
    results: IngestResult[], totals: CountTotals, changes: ChangeTotals, slicer: TimeSlicer): Promise<void> {
    const nodes = await this.lockNodes(c, messages.map((m) => m.message.node), receivedAt);
    const admitted: Array<{ message: IngestMessage; node: NodeRecord | undefined; position: SeqPosition; index: number }> = [];
    for (const { index, message } of messages) {
      const node = nodes.get(message.node);
      const admission = admit(message, node, receivedAt);
      // A node never seen is always admitted: its placeholder row is filled in below.
      if (admission.kind === 'skip') results[index] = admission.result;
      else admitted.push({ message, node, position: admission.position, index });
    }
    if (admitted.length === 0) return;
    const existing = await this.existingOf(c, admitted.map((a) => a.message));
    const w = new SegmentWrites();
    for (const { message, node, position, index } of admitted) {
      const before = node && { summary: node.summary, failing: node.failingBySeverity };
      const plan = await runStepsSliced(planSteps(existing.get(message.node) ?? [], message, before), slicer);
      const write = nodeWrite(message, node, plan, receivedAt, position);
      const at = write.lastScan;
      for (const fid of plan.resolve) w.resolve.push([message.node, fid, at, node?.lastScan ?? at]);
      for (const u of plan.inserts) w.inserts.push([message.node, at, u]);
      for (const u of plan.upserts) w.upserts.push([message.node, at, u]);
      for (const e of plan.events) w.events.push([message.node, at, e]);
      await runStepsSliced(totals.add(plan), slicer);
      changes.add(write, plan);
      for (const check of plan.checks.values()) {
        if (this.checkCache.isNew(check)) w.checks.set(check.checkId, check);
        if (slicer.due) await slicer.next();
      }
      w.nodes.push(write);
      results[index] = { applied: true, duplicate: false, lastSeq: write.lastSeq ?? undefined };
    }
    await w.flush(c);
  }

  async applyBatch(messages: IngestMessage[], receivedAt: number): Promise<IngestResult[]> {
    return this.health.write(() => this.applyAll(messages, receivedAt));
  }

  private async applyAll(messages: IngestMessage[], receivedAt: number): Promise<IngestResult[]> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const results: IngestResult[] = new Array(messages.length);
      const totals = new CountTotals();
      const changes = new ChangeTotals();
      const slicer = new TimeSlicer();
      let segment: Array<{ index: number; message: IngestMessage }> = [];
      const inSegment = new Set<string>();
      for (let index = 0; index <= messages.length; index++) {
        const message = messages[index];
        if (segment.length > 0 && (message === undefined || inSegment.has(message.node))) {
          await this.applySegment(c, segment, receivedAt, results, totals, changes, slicer);
          segment = [];
          inSegment.clear();
        }
        if (message === undefined) break;
        segment.push({ index, message });
        inSegment.add(message.node);
      }
      const rows: Array<[string, string, string, number]> = [];
      for (const row of totals.rows()) {
        rows.push(row);
        if (slicer.due) await slicer.next();
      }
      for (const part of chunks(rows)) {
        await c.query(`INSERT INTO check_counts (check_id, status, severity, n)
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
          ON CONFLICT (check_id, status, severity) DO UPDATE SET n = check_counts.n + excluded.n`,
        [part.map((r) => r[0]), part.map((r) => r[1]), part.map((r) => r[2]), part.map((r) => r[3])]);
      }
      const changed = changes.result();
      // Delivered to the other replicas' LISTEN connections when (and only if) the transaction commits.
      if (changed) await c.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, changesPayload(this.origin, changed)]);
      await c.query('COMMIT');
      this.observers.notify(changed);
      return results;
    } catch (err) {
      this.checkCache.clear();
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async lastSeq(node: string): Promise<number | undefined> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<{ last_seq: number | null }>('SELECT last_seq FROM nodes WHERE name = $1', [node]);
      return rows[0]?.last_seq ?? undefined;
    });
  }

  async position(node: string): Promise<SeqPosition | undefined> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<{ epoch: string | null; last_seq: number | null; seq_scan: number | null }>(
        'SELECT epoch, last_seq, seq_scan FROM nodes WHERE name = $1', [node]);
      return rows[0] ? { epoch: rows[0].epoch, seq: rows[0].last_seq, scan: rows[0].seq_scan } : undefined;
    });
  }

  async findings(query: FindingQuery): Promise<Page<StoredFinding>> {
    return this.health.read(async () => {
      let checkIds: string[] | undefined;
      if (query.cis !== undefined || query.component !== undefined) {
        const m = checksMatchingQuery('postgres', query);
        checkIds = (await this.pool.query<{ check_id: string }>(m.text, m.values)).rows.map((r) => r.check_id);
        if (checkIds.length === 0) return { items: [], nextAfter: null };
      }
      const { text, values } = findingsQuery('postgres', query, checkIds);
      const { rows } = await this.pool.query<FindingRowOut>(text, values);
      const more = rows.length > query.limit;
      if (more) rows.pop();
      return { items: rows.map(toStoredFinding), nextAfter: more ? sortKeyOf(query.sort, rows[rows.length - 1]) : null };
    });
  }

  async nodes(query: NodeQuery): Promise<Page<NodeRecord>> {
    return this.health.read(async () => {
      const { text, values } = nodesQuery('postgres', query);
      const { rows } = await this.pool.query<NodeRowOut>(text, values);
      const more = rows.length > query.limit;
      if (more) rows.pop();
      return { items: rows.map(toNodeRecord), nextAfter: more ? [rows[rows.length - 1].name] : null };
    });
  }

  async node(name: string): Promise<NodeRecord | undefined> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<NodeRowOut>('SELECT * FROM nodes WHERE name = $1', [name]);
      return rows.length ? toNodeRecord(rows[0]) : undefined;
    });
  }

  async allNodes(): Promise<NodeRecord[]> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<NodeRowOut>('SELECT * FROM nodes ORDER BY name');
      return rows.map(toNodeRecord);
    });
  }

  async nodeCounts(silentBefore: number): Promise<{ total: number; silent: number }> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<{ total: string; silent: string }>(
        'SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE last_report < $1) AS silent FROM nodes', [silentBefore]);
      return { total: Number(rows[0].total), silent: Number(rows[0].silent) };
    });
  }

  async optimize(): Promise<void> {
    await this.pool.query('ANALYZE findings, nodes, checks, check_counts');
  }

  async findingEvents(node: string, limit: number, findingId?: string): Promise<FindingEvent[]> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<{ node: string; fid: string; check_id: string; at: number; status: string; event: string }>(
        `SELECT node, fid, check_id, at, status, event FROM finding_events WHERE node = $1 AND ($2::text IS NULL OR fid = $2)
          ORDER BY at DESC, id DESC LIMIT $3`, [node, findingId ?? null, limit]);
      return rows.map((r) => ({ node: r.node, findingId: r.fid, checkId: r.check_id, at: r.at, status: r.status, event: r.event }) as FindingEvent);
    });
  }

  async nodeScores(node: string, limit: number): Promise<ScorePoint[]> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<{ at: number; pass: number; fail: number; warn: number; skip: number; error: number }>(
        'SELECT * FROM node_scores WHERE node = $1 ORDER BY at DESC LIMIT $2', [node, limit]);
      return rows.map((r) => ({ at: r.at, summary: { pass: r.pass, fail: r.fail, warn: r.warn, skip: r.skip, error: r.error } }));
    });
  }

  async checks(): Promise<CheckRecord[]> {
    return this.health.read(async () => {
      const [checks, counts] = await Promise.all([
        this.pool.query<CheckRowOut>('SELECT * FROM checks'),
        this.pool.query<{ check_id: string; status: 'pass'; n: number }>('SELECT check_id, status, n FROM check_counts WHERE n <> 0'),
      ]);
      return toCheckRecords(checks.rows, counts.rows);
    });
  }

  async openCounts(): Promise<OpenCount[]> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<OpenCount>(`SELECT status, severity, SUM(n)::bigint AS n FROM check_counts
        GROUP BY status, severity HAVING SUM(n) <> 0`);
      return rows;
    });
  }

  async settings(resourceKinds: string[]): Promise<SettingRow[]> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<SettingRow>(
        `SELECT node, fid AS "findingId", check_id AS "checkId", status, severity, value_key AS "valueKey" FROM findings
          WHERE resolved_at IS NULL AND resource_kind = ANY($1::text[])`, [resourceKinds]);
      return rows;
    });
  }

  async facts(selector: FactSelector): Promise<StoredFinding[]> {
    return this.health.read(async () => {
      const { text, values } = factsQuery('postgres', selector);
      const { rows } = await this.pool.query<FindingRowOut>(text, values);
      return rows.map(toStoredFinding);
    });
  }

  async recordClusterScore(at: number, score: unknown): Promise<void> {
    await this.health.write(async () => {
      await this.pool.query('INSERT INTO cluster_scores (at, score) VALUES ($1, $2) ON CONFLICT (at) DO NOTHING', [at, JSON.stringify(score)]);
    });
  }

  async clusterScores(limit: number): Promise<Array<{ at: number; score: unknown }>> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<{ at: number; score: string }>('SELECT at, score FROM cluster_scores ORDER BY at DESC LIMIT $1', [limit]);
      return rows.map((r) => ({ at: r.at, score: JSON.parse(r.score) as unknown }));
    });
  }

  async purgeResolved(before: number): Promise<number> {
    return this.health.write(async () => {
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`DELETE FROM finding_events e USING findings f WHERE f.node = e.node AND f.fid = e.fid
          AND f.resolved_at IS NOT NULL AND f.resolved_at < $1`, [before]);
        await c.query('DELETE FROM node_scores WHERE at < $1', [before]);
        await c.query('DELETE FROM cluster_scores WHERE at < $1', [before]);
        const res = await c.query('DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < $1', [before]);
        await c.query('COMMIT');
        return res.rowCount ?? 0;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    });
  }

  async recordTrend(sample: TrendSample): Promise<void> {
    const f = sample.failing;
    const o = sample.open;
    await this.health.write(async () => {
      await this.pool.query(`INSERT INTO trend_samples (at, fail_critical, fail_high, fail_medium, fail_low, fail_info, pass, fail, warn, skip, error)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (at) DO UPDATE SET fail_critical = excluded.fail_critical, fail_high = excluded.fail_high,
          fail_medium = excluded.fail_medium, fail_low = excluded.fail_low, fail_info = excluded.fail_info, pass = excluded.pass,
          fail = excluded.fail, warn = excluded.warn, skip = excluded.skip, error = excluded.error`,
      [sample.at, f.critical, f.high, f.medium, f.low, f.info, o.pass, o.fail, o.warn, o.skip, o.error]);
    });
  }

  async pruneTrend(before: number): Promise<void> {
    await this.health.write(async () => {
      await this.pool.query('DELETE FROM trend_samples WHERE at < $1', [before]);
    });
  }

  async trend(since: number): Promise<TrendSample[]> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<TrendRowOut>('SELECT * FROM trend_samples WHERE at >= $1 ORDER BY at', [hourOf(since)]);
      return rows.map(toTrendSample);
    });
  }

  async changes(query: ChangesQuery): Promise<Page<ChangeRecord>> {
    return this.health.read(async () => {
      const { text, values } = changesQuery('postgres', query);
      const { rows } = await this.pool.query<ChangeRowOut>(text, values);
      const more = rows.length > query.limit;
      if (more) rows.pop();
      const items = rows.map(toChangeRecord);
      const last = items[items.length - 1];
      return { items, nextAfter: more && last ? [last.at, last.node, last.findingId, last.seq] satisfies ChangeKey : null };
    });
  }

  async nodeHistory(node: string, query: HistoryQuery): Promise<Page<HistoryRecord>> {
    return this.health.read(async () => {
      const candidates = historyFindingsQuery('postgres', node, query.since);
      const [rows, failed, events] = await Promise.all([
        this.pool.query<HistoryRowOut>(candidates.text, candidates.values),
        this.pool.query<{ fid: string; at: number }>(
          `SELECT fid, MAX(at) AS at FROM finding_events WHERE node = $1 AND status = 'fail' GROUP BY fid`, [node]),
        this.pool.query<HistoryEventRow>(`SELECT fid, at, status, event FROM finding_events WHERE node = $1 AND at >= $2
          ORDER BY at DESC, id DESC`, [node, query.since]),
      ]);
      return buildHistory(rows.rows, new Map(failed.rows.map((r) => [r.fid, r.at])), events.rows, query);
    });
  }

  /** Observers hear this process's commits directly and the other replicas' through LISTEN (once the first observes). */
  observe(listener: (changes: StoredChanges) => void): void {
    this.observers.add(listener);
    if (!this.listener && !this.relisten) void this.listen();
  }

  private async listen(): Promise<void> {
    this.relisten = undefined;
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString, types });
    const retry = (err: Error): void => {
      if (this.listener !== client) return; // already replaced, or the store is closing
      this.listener = undefined;
      this.opts.onPoolError?.(err);
      client.end().catch(() => undefined);
      if (!this.closed) this.relisten = setTimeout(() => { void this.listen(); }, RELISTEN_MS).unref();
    };
    client.on('error', retry);
    client.on('notification', (msg) => {
      const parsed = msg.channel === CHANGES_CHANNEL && msg.payload ? parsePayload(msg.payload) : undefined;
      if (parsed && parsed.origin !== this.origin) this.observers.notify(parsed.changes);
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (this.closed) await client.end();
    } catch (err) {
      retry(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.relisten);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  // ---- several replicas: leadership, the stored correlation result, correlation inputs of some nodes ----

  async nodesNamed(names: readonly string[]): Promise<NodeRecord[]> {
    if (names.length === 0) return [];
    return this.health.read(async () => {
      const { rows } = await this.pool.query<NodeRowOut>('SELECT * FROM nodes WHERE name = ANY($1::text[]) ORDER BY name', [names]);
      return rows.map(toNodeRecord);
    });
  }

  async nodeHeads(): Promise<NodeHead[]> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<NodeHead>(
        'SELECT name, last_report AS "lastReport", role_key AS "roleKey" FROM nodes ORDER BY name');
      return rows;
    });
  }

  async factsOf(selector: FactSelector, nodes: readonly string[]): Promise<StoredFinding[]> {
    if (nodes.length === 0) return [];
    return this.health.read(async () => {
      const { text, values } = factsQuery('postgres', selector);
      const { rows } = await this.pool.query<FindingRowOut>(`${text} AND f.node = ANY($${values.length + 1}::text[])`, [...values, nodes]);
      return rows.map(toStoredFinding);
    });
  }

  async settingsOf(resourceKinds: string[], nodes: readonly string[]): Promise<SettingRow[]> {
    if (nodes.length === 0) return [];
    return this.health.read(async () => {
      const { rows } = await this.pool.query<SettingRow>(
        `SELECT node, fid AS "findingId", check_id AS "checkId", status, severity, value_key AS "valueKey" FROM findings
          WHERE resolved_at IS NULL AND resource_kind = ANY($1::text[]) AND node = ANY($2::text[])`, [resourceKinds, nodes]);
      return rows;
    });
  }

  leaderLease(replica: string): LeaderLease {
    return new PostgresLeaderLease(this.connectionString, replica);
  }

  async leaderTerms(): Promise<LeaderTerm[]> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<LeaderTerm>(`SELECT term, replica, started_at AS "startedAt", last_seen AS "lastSeen",
        ended_at AS "endedAt" FROM leader_terms ORDER BY term`);
      return rows;
    });
  }

  async saveCorrelations(term: number, result: CorrelationWrite): Promise<boolean> {
    return this.health.write(async () => {
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        // The state row's lock orders this write against a new term's start (PostgresLeaderLease.tryAcquire takes it too).
        await c.query('SELECT version FROM correlation_state WHERE id = 1 FOR UPDATE');
        const { rows } = await c.query<{ term: number | null }>('SELECT MAX(term) AS term FROM leader_terms');
        if (rows[0]?.term !== term) {
          await c.query('ROLLBACK');
          return false;
        }
        for (const part of chunks(result.upserts)) {
          await c.query(`INSERT INTO correlation_items (id, body) SELECT * FROM unnest($1::text[], $2::text[])
            ON CONFLICT (id) DO UPDATE SET body = excluded.body`, [part.map((u) => u.id), part.map((u) => u.body)]);
        }
        for (const part of chunks(result.deletes)) await c.query('DELETE FROM correlation_items WHERE id = ANY($1::text[])', [part]);
        await c.query(`UPDATE correlation_state SET version = version + 1, computed_at = $1, ms = $2, score = $3, term = $4, replica = $5
          WHERE id = 1`, [result.computedAt, result.ms, JSON.stringify(result.score), term, result.replica]);
        await c.query('COMMIT');
        return true;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    });
  }

  async correlationHead(): Promise<CorrelationHead> {
    return this.health.read(async () => {
      const { rows } = await this.pool.query<CorrelationHead>(`SELECT version, computed_at AS "computedAt", ms, term, replica
        FROM correlation_state WHERE id = 1`);
      return rows[0];
    });
  }

  async storedCorrelations(): Promise<StoredCorrelationResult> {
    return this.health.read(async () => {
      const c = await this.pool.connect();
      try {
        // One snapshot: the state row and the items it describes.
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const head = await c.query<CorrelationHead & { score: string | null }>(`SELECT version, computed_at AS "computedAt", ms, term,
          replica, score FROM correlation_state WHERE id = 1`);
        const items = await c.query<{ id: string; body: string }>('SELECT id, body FROM correlation_items');
        await c.query('COMMIT');
        const { score, ...rest } = head.rows[0];
        return { ...rest, score: score === null ? null : JSON.parse(score) as unknown, items: items.rows };
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    });
  }
}

/** Arbitrary constant naming the leader's advisory lock. */
const LEADER_LOCK = 0x76_69_67_6c;
/** A renewal that takes longer than this counts as a lost connection. */
const RENEW_TIMEOUT_MS = 2_000;
/** The database's clock, in ms: every replica's terms are timed by one clock. */
const DB_NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/**
 * Leadership over PostgreSQL: a session advisory lock held on a connection of its own. The lock lives as long as
 * that session: a replica that dies (or whose connection breaks) loses it at once and another one can take it.
 */
class PostgresLeaderLease implements LeaderLease {
  private client: pg.Client | undefined;
  private term: number | undefined;
  private broken = false;

  constructor(private readonly connectionString: string, private readonly replica: string) {}

  private async connection(): Promise<pg.Client> {
    if (this.client && !this.broken) return this.client;
    await this.drop();
    const client = new pg.Client({ connectionString: this.connectionString, types });
    client.on('error', () => { this.broken = true; });
    this.broken = false;
    await client.connect();
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.term = undefined;
    await client?.end().catch(() => undefined);
  }

  async tryAcquire(): Promise<number | undefined> {
    try {
      const c = await this.connection();
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK]);
      if (!rows[0]?.ok) return undefined;
      await c.query('BEGIN');
      await c.query('SELECT version FROM correlation_state WHERE id = 1 FOR UPDATE');
      const term = await c.query<{ term: number }>(`INSERT INTO leader_terms (term, replica, started_at, last_seen)
        SELECT COALESCE(MAX(term), 0) + 1, $1, ${DB_NOW}, ${DB_NOW} FROM leader_terms RETURNING term`, [this.replica]);
      await c.query('COMMIT');
      this.term = term.rows[0].term;
      return this.term;
    } catch (err) {
      await this.drop();
      throw err;
    }
  }

  async renew(): Promise<boolean> {
    const c = this.client;
    if (!c || this.broken || this.term === undefined) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${RENEW_TIMEOUT_MS} ms`)), RENEW_TIMEOUT_MS);
      });
      await Promise.race([c.query(`UPDATE leader_terms SET last_seen = ${DB_NOW} WHERE term = $1`, [this.term]), timeout]);
      return !this.broken;
    } catch {
      await this.drop();
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async release(): Promise<void> {
    const c = this.client;
    if (c && !this.broken && this.term !== undefined) {
      await c.query(`UPDATE leader_terms SET ended_at = ${DB_NOW}, last_seen = ${DB_NOW} WHERE term = $1`, [this.term]).catch(() => undefined);
      await c.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK]).catch(() => undefined);
    }
    await this.drop();
  }
}
