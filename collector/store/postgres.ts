// PostgreSQL store (`--database-url`): for large clusters and several collector replicas sharing one database.
// Each message locks its node row (SELECT ... FOR UPDATE), so replicas never interleave one node's writes.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { isRecord } from '../../common/json.js';
import type { IngestMessage, IngestResult } from './messages.js';
import { planSteps, type CheckMeta, type ExistingFinding } from './plan.js';
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

  private async lockNode(c: pg.PoolClient, name: string, at: number): Promise<NodeRecord | undefined> {
    for (;;) {
      const found = await c.query<NodeRowOut>('SELECT * FROM nodes WHERE name = $1 FOR UPDATE', [name]);
      if (found.rows.length) return toNodeRecord(found.rows[0]);
      // A placeholder row to lock; nodeWrite fills it in. Another replica may win the insert: then lock theirs.
      const inserted = await c.query(`INSERT INTO nodes (name, roles, role_key, info, first_seen, last_report, last_scan)
        VALUES ($1, '[]', 'none', '{}', $2, $2, $2) ON CONFLICT (name) DO NOTHING RETURNING name`, [name, at]);
      if (inserted.rows.length) return undefined;
    }
  }

  private async upsert(c: pg.PoolClient, node: string, at: number, u: readonly FindingColumns[]): Promise<void> {
    await c.query(`INSERT INTO findings (node, fid, check_id, status, severity, sev_rank, status_rank, resource_kind, namespace, pod,
        evidence_key, pss, value_key, body, first_status, first_seen, changed_at)
      SELECT $1, u.fid, u.check_id, u.status, u.severity, u.sev_rank, u.status_rank, u.resource_kind, u.namespace, u.pod,
        u.evidence_key, u.pss, u.value_key, u.body, u.status, $2, $2
      FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[],
        $12::text[], $13::text[], $14::text[], $15::text[])
        AS u(fid, check_id, status, severity, sev_rank, status_rank, resource_kind, namespace, pod, evidence_key, pss, value_key, body)
      ON CONFLICT (node, fid) DO UPDATE SET check_id = excluded.check_id, status = excluded.status,
        severity = excluded.severity, sev_rank = excluded.sev_rank, status_rank = excluded.status_rank,
        resource_kind = excluded.resource_kind, namespace = excluded.namespace, pod = excluded.pod,
        evidence_key = excluded.evidence_key, pss = excluded.pss, value_key = excluded.value_key, body = excluded.body,
        changed_at = excluded.changed_at, last_seen = NULL, resolved_at = NULL`,
    [node, at, u.map((x) => x.fid), u.map((x) => x.checkId), u.map((x) => x.status), u.map((x) => x.severity),
      u.map((x) => x.sevRank), u.map((x) => x.statusRank), u.map((x) => x.resourceKind), u.map((x) => x.namespace),
      u.map((x) => x.pod), u.map((x) => x.evidenceKey), u.map((x) => x.pss), u.map((x) => x.valueKey), u.map((x) => x.body)]);
  }

  private async applyOne(c: pg.PoolClient, message: IngestMessage, receivedAt: number, totals: CountTotals,
    changes: ChangeTotals, slicer: TimeSlicer): Promise<IngestResult> {
    const node = await this.lockNode(c, message.node, receivedAt);
    const admission = admit(message, node, receivedAt);
    // A node never seen is always admitted: the placeholder row lockNode made is filled in below.
    if (admission.kind === 'skip') return admission.result;
    // A delta reads only the findings it names: its cost follows the delta, not the node.
    const { rows: existing } = message.kind === 'full'
      ? await c.query<ExistingFinding>(
        'SELECT fid, check_id AS "checkId", status, severity, body, resolved_at AS "resolvedAt" FROM findings WHERE node = $1', [message.node])
      : await c.query<ExistingFinding>(`SELECT fid, check_id AS "checkId", status, severity, body, resolved_at AS "resolvedAt"
          FROM findings WHERE node = $1 AND fid = ANY($2::text[])`, [message.node, touchedIds(message)]);
    const before = node && { summary: node.summary, failing: node.failingBySeverity };
    const plan = await runStepsSliced(planSteps(existing, message, before), slicer);
    const write = nodeWrite(message, node, plan, receivedAt, admission.position);
    const at = write.lastScan;
    for (const fids of chunks(plan.resolve)) {
      await c.query('UPDATE findings SET resolved_at = $1, last_seen = $2 WHERE node = $3 AND fid = ANY($4::text[])',
        [at, node?.lastScan ?? at, message.node, fids]);
    }
    for (const u of chunks(plan.upserts)) await this.upsert(c, message.node, at, u);
    for (const e of chunks(plan.events)) {
      await c.query(`INSERT INTO finding_events (node, fid, check_id, at, status, event)
        SELECT $1, u.fid, u.check_id, $2, u.status, u.event FROM unnest($3::text[], $4::text[], $5::text[], $6::text[])
          AS u(fid, check_id, status, event)`,
      [message.node, at, e.map((x) => x.findingId), e.map((x) => x.checkId), e.map((x) => x.status), e.map((x) => x.event)]);
    }
    await runStepsSliced(totals.add(plan), slicer);
    changes.add(write, plan);
    const checks: CheckMeta[] = [];
    for (const c of plan.checks.values()) {
      if (this.checkCache.isNew(c)) checks.push(c);
      if (slicer.due) await slicer.next();
    }
    for (const part of chunks(checks)) {
      await c.query(`INSERT INTO checks (check_id, cis, title, component, severity)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
        ON CONFLICT (check_id) DO UPDATE SET cis = excluded.cis, title = excluded.title,
          component = excluded.component, severity = excluded.severity`,
      [part.map((x) => x.checkId), part.map((x) => x.cis), part.map((x) => x.title), part.map((x) => x.component),
        part.map((x) => x.severity)]);
    }
    const m = write.summary;
    const f = write.failing;
    await c.query(`UPDATE nodes SET roles = $2, role_key = $3, agent_version = $4, info = $5, first_seen = $6,
        last_report = $7, last_scan = $8, last_seq = $9, pass = $10, fail = $11, warn = $12, skip = $13, error = $14,
        fail_critical = $15, fail_high = $16, fail_medium = $17, fail_low = $18, fail_info = $19,
        epoch = $20, seq_scan = $21, identity_kind = $22, identity_subject = $23, bound_at = $24
      WHERE name = $1`,
    [write.name, JSON.stringify(write.roles), write.roleKey, write.agentVersion, write.info, write.firstSeen,
      write.lastReport, write.lastScan, write.lastSeq, m.pass, m.fail, m.warn, m.skip, m.error,
      f.critical, f.high, f.medium, f.low, f.info,
      write.epoch, write.seqScan, write.identity?.kind ?? null, write.identity?.subject ?? null, write.boundAt]);
    if (write.scoreChanged) {
      await c.query('INSERT INTO node_scores (node, at, pass, fail, warn, skip, error) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [message.node, at, m.pass, m.fail, m.warn, m.skip, m.error]);
    }
    return { applied: true, duplicate: false, lastSeq: write.lastSeq ?? undefined };
  }

  async applyBatch(messages: IngestMessage[], receivedAt: number): Promise<IngestResult[]> {
    return this.health.write(() => this.applyAll(messages, receivedAt));
  }

  private async applyAll(messages: IngestMessage[], receivedAt: number): Promise<IngestResult[]> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const results: IngestResult[] = [];
      const totals = new CountTotals();
      const changes = new ChangeTotals();
      const slicer = new TimeSlicer();
      for (const m of messages) results.push(await this.applyOne(c, m, receivedAt, totals, changes, slicer));
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
}
