// The embedded store: better-sqlite3 in WAL mode, one file under --data-dir.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestMessage, IngestResult } from './messages.js';
import type { ExistingFinding } from './plan.js';
import { admit, ChangeTotals, CheckMetaCache, CountTotals, makePlan, nodeWrite, Observers } from './apply.js';
import { buildHistory, type HistoryEventRow } from './history.js';
import { runMigrations, type MigrationConnection } from './migrations.js';
import {
  toCheckRecords, toNodeRecord, toStoredFinding, type CheckRowOut, type NodeRowOut,
} from './rows.js';
import {
  changesQuery, checksMatchingQuery, factsQuery, findingsQuery, historyFindingsQuery, nodesQuery, openCountQuery, sortKeyOf,
  WALK_ABOVE, type ChangeRowOut, type FindingRowOut, type HistoryRowOut,
} from './sql.js';
import { toChangeRecord, toTrendSample, type TrendRowOut } from './rows.js';
import { hourOf } from './trend.js';
import type {
  ChangeKey, ChangeRecord, ChangesQuery, CheckRecord, FactSelector, OpenCount, FindingEvent, FindingQuery, HistoryQuery,
  HistoryRecord, NodeQuery, NodeRecord, Page, ScorePoint, SeqPosition, SettingRow, Store, StoredChanges, StoredFinding,
  TrendSample,
} from './types.js';

export const SQLITE_FILE = 'vigil.db';

interface SqliteOptions {
  /** `FULL` (default) fsyncs every commit; `NORMAL` is safe against corruption but may lose the last commits on power loss. */
  synchronous?: 'FULL' | 'NORMAL';
}

/** The write path's statements, compiled once the schema exists. */
function prepareStatements(db: Database.Database) {
  return {
    node: db.prepare('SELECT * FROM nodes WHERE name = ?'),
    existing: db.prepare('SELECT fid, check_id AS checkId, status, severity, body, resolved_at AS resolvedAt FROM findings WHERE node = ?'),
    resolve: db.prepare('UPDATE findings SET resolved_at = ?, last_seen = ? WHERE node = ? AND fid = ?'),
    upsert: db.prepare(`INSERT INTO findings (node, fid, check_id, status, severity, sev_rank, resource_kind, namespace, pod,
        evidence_key, pss, value_key, body, first_status, first_seen, changed_at, last_seen, resolved_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
      ON CONFLICT (node, fid) DO UPDATE SET check_id = excluded.check_id, status = excluded.status,
        severity = excluded.severity, sev_rank = excluded.sev_rank, resource_kind = excluded.resource_kind,
        namespace = excluded.namespace, pod = excluded.pod, evidence_key = excluded.evidence_key, pss = excluded.pss,
        value_key = excluded.value_key, body = excluded.body,
        changed_at = excluded.changed_at, last_seen = NULL, resolved_at = NULL`),
    event: db.prepare('INSERT INTO finding_events (node, fid, check_id, at, status, event) VALUES (?, ?, ?, ?, ?, ?)'),
    count: db.prepare(`INSERT INTO check_counts (check_id, status, severity, n) VALUES (?, ?, ?, ?)
      ON CONFLICT (check_id, status, severity) DO UPDATE SET n = check_counts.n + excluded.n`),
    check: db.prepare(`INSERT INTO checks (check_id, cis, title, component, severity) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (check_id) DO UPDATE SET cis = excluded.cis, title = excluded.title,
        component = excluded.component, severity = excluded.severity`),
    insertNode: db.prepare(`INSERT INTO nodes (name, roles, role_key, agent_version, info, first_seen, last_report, last_scan,
        last_seq, epoch, seq_scan, identity_kind, identity_subject, bound_at,
        pass, fail, warn, skip, error, fail_critical, fail_high, fail_medium, fail_low, fail_info)
      VALUES (@name, @roles, @roleKey, @agentVersion, @info, @firstSeen, @lastReport, @lastScan, @lastSeq,
        @epoch, @seqScan, @identityKind, @identitySubject, @boundAt,
        @pass, @fail, @warn, @skip, @error, @critical, @high, @medium, @low, @info_)
      ON CONFLICT (name) DO UPDATE SET roles = excluded.roles, role_key = excluded.role_key,
        agent_version = excluded.agent_version, info = excluded.info, last_report = excluded.last_report,
        last_scan = excluded.last_scan, last_seq = excluded.last_seq, epoch = excluded.epoch, seq_scan = excluded.seq_scan,
        identity_kind = excluded.identity_kind, identity_subject = excluded.identity_subject, bound_at = excluded.bound_at,
        pass = excluded.pass, fail = excluded.fail,
        warn = excluded.warn, skip = excluded.skip, error = excluded.error, fail_critical = excluded.fail_critical,
        fail_high = excluded.fail_high, fail_medium = excluded.fail_medium, fail_low = excluded.fail_low,
        fail_info = excluded.fail_info`),
    score: db.prepare('INSERT INTO node_scores (node, at, pass, fail, warn, skip, error) VALUES (?, ?, ?, ?, ?, ?, ?)'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** The migration runner's view of a SQLite database. */
export function sqliteMigrationConnection(db: Database.Database): MigrationConnection {
  return {
    dialect: 'sqlite',
    async query(sql, values = []) {
      const statement = db.prepare(sql);
      if (statement.reader) return statement.all(...values) as Array<Record<string, unknown>>;
      statement.run(...values);
      return [];
    },
  };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly checkCache = new CheckMetaCache();
  private prepared: Statements | undefined;
  private readonly observers = new Observers();
  /** Query shapes repeat (same filters, different values): compiling a many-armed statement costs more than running it. */
  private readonly statementCache = new Map<string, Database.Statement>();

  constructor(readonly dataDir: string, opts: SqliteOptions = {}) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = new Database(join(dataDir, SQLITE_FILE));
    // Findings rows are ~1 KB and clustered by (node, fid) (WITHOUT ROWID): pages must hold many of them.
    // Only takes effect when the file is created.
    this.db.pragma('page_size = 16384');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    // Index pages of a few hundred thousand findings must stay in memory or every insert becomes a page read.
    this.db.pragma('cache_size = -131072');
    this.db.pragma('temp_store = MEMORY');
  }

  /** Statements of the write path, compiled once the schema exists (after migrate()). */
  private get stmts(): Statements {
    if (!this.prepared) throw new Error('SqliteStore: migrate() must run before the store is used');
    return this.prepared;
  }

  private statement(text: string): Database.Statement {
    let stmt = this.statementCache.get(text);
    if (!stmt) {
      if (this.statementCache.size >= 256) this.statementCache.delete(this.statementCache.keys().next().value as string);
      stmt = this.db.prepare(text);
      this.statementCache.set(text, stmt);
    }
    return stmt;
  }

  async migrate(): Promise<number> {
    const version = await runMigrations(sqliteMigrationConnection(this.db));
    this.prepared ??= prepareStatements(this.db);
    return version;
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  private getNode(name: string): NodeRecord | undefined {
    const row = this.stmts.node.get(name) as NodeRowOut | undefined;
    return row ? toNodeRecord(row) : undefined;
  }

  private applyOne(message: IngestMessage, receivedAt: number, totals: CountTotals, changes: ChangeTotals): IngestResult {
    const s = this.stmts;
    const node = this.getNode(message.node);
    const admission = admit(message, node, receivedAt);
    if (admission.kind === 'skip') return admission.result;
    const existing = s.existing.all(message.node) as ExistingFinding[];
    const plan = makePlan(existing, message);
    const write = nodeWrite(message, node, plan, receivedAt, admission.position);
    const at = write.lastScan;
    const previousScan = node?.lastScan ?? at;
    for (const fid of plan.resolve) s.resolve.run(at, previousScan, message.node, fid);
    for (const c of plan.upserts) {
      s.upsert.run(message.node, c.fid, c.checkId, c.status, c.severity, c.sevRank, c.resourceKind, c.namespace, c.pod,
        c.evidenceKey, c.pss, c.valueKey, c.body, c.status, at, at);
    }
    for (const e of plan.events) s.event.run(message.node, e.findingId, e.checkId, at, e.status, e.event);
    totals.add(plan);
    changes.add(write, plan);
    for (const c of this.checkCache.changed(plan.checks.values())) s.check.run(c.checkId, c.cis, c.title, c.component, c.severity);
    const f = write.failing;
    s.insertNode.run({
      name: write.name, roles: JSON.stringify(write.roles), roleKey: write.roleKey, agentVersion: write.agentVersion,
      info: write.info, firstSeen: write.firstSeen, lastReport: write.lastReport, lastScan: write.lastScan,
      lastSeq: write.lastSeq, epoch: write.epoch, seqScan: write.seqScan, identityKind: write.identity?.kind ?? null,
      identitySubject: write.identity?.subject ?? null, boundAt: write.boundAt, ...write.summary,
      critical: f.critical, high: f.high, medium: f.medium, low: f.low, info_: f.info,
    });
    if (write.scoreChanged) {
      const m = write.summary;
      s.score.run(message.node, at, m.pass, m.fail, m.warn, m.skip, m.error);
    }
    return { applied: true, duplicate: false, lastSeq: write.lastSeq ?? undefined };
  }

  async applyBatch(messages: IngestMessage[], receivedAt: number): Promise<IngestResult[]> {
    const changes = new ChangeTotals();
    let results: IngestResult[];
    try {
      results = this.db.transaction(() => {
        const totals = new CountTotals();
        const applied = messages.map((m) => this.applyOne(m, receivedAt, totals, changes));
        for (const row of totals.rows()) this.stmts.count.run(...row);
        return applied;
      })();
    } catch (err) {
      this.checkCache.clear();
      throw err;
    }
    this.observers.notify(changes.result());
    return results;
  }

  async lastSeq(node: string): Promise<number | undefined> {
    return this.getNode(node)?.lastSeq ?? undefined;
  }

  async position(node: string): Promise<SeqPosition | undefined> {
    const n = this.getNode(node);
    return n ? { epoch: n.epoch ?? null, seq: n.lastSeq, scan: n.seqScan ?? null } : undefined;
  }

  async findings(query: FindingQuery): Promise<Page<StoredFinding>> {
    let checkIds: string[] | undefined;
    if (query.cis !== undefined || query.component !== undefined) {
      const m = checksMatchingQuery('sqlite', query);
      checkIds = (this.statement(m.text).raw().all(...m.values) as string[][]).map((r) => r[0]);
      if (checkIds.length === 0) return { items: [], nextAfter: null };
    }
    let walkSortOrder = false;
    if (checkIds && query.sort !== 'severity') {
      const c = openCountQuery('sqlite', checkIds);
      walkSortOrder = (this.statement(c.text).get(...c.values) as { n: number }).n > WALK_ABOVE;
    }
    const { text, values } = findingsQuery('sqlite', query, checkIds, { walkSortOrder });
    const rows = this.statement(text).all(...values) as FindingRowOut[];
    const more = rows.length > query.limit;
    if (more) rows.pop();
    return {
      items: rows.map(toStoredFinding),
      nextAfter: more ? sortKeyOf(query.sort, rows[rows.length - 1]) : null,
    };
  }

  async nodes(query: NodeQuery): Promise<Page<NodeRecord>> {
    const { text, values } = nodesQuery('sqlite', query);
    const rows = this.statement(text).all(...values) as NodeRowOut[];
    const more = rows.length > query.limit;
    if (more) rows.pop();
    return { items: rows.map(toNodeRecord), nextAfter: more ? [rows[rows.length - 1].name] : null };
  }

  async node(name: string): Promise<NodeRecord | undefined> {
    return this.getNode(name);
  }

  async allNodes(): Promise<NodeRecord[]> {
    return (this.db.prepare('SELECT * FROM nodes ORDER BY name').all() as NodeRowOut[]).map(toNodeRecord);
  }

  async nodeCounts(silentBefore: number): Promise<{ total: number; silent: number }> {
    const row = this.db.prepare('SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE last_report < ?) AS silent FROM nodes')
      .get(silentBefore) as { total: number; silent: number };
    return { total: row.total, silent: row.silent };
  }

  async optimize(): Promise<void> {
    // Plans for the findings queries are steered explicitly (see QueryHints); this keeps the rest current.
    this.db.pragma('analysis_limit = 1000');
    this.db.pragma('optimize');
  }

  async findingEvents(node: string, limit: number, findingId?: string): Promise<FindingEvent[]> {
    const rows = findingId === undefined
      ? this.db.prepare(`SELECT node, fid, check_id, at, status, event FROM finding_events WHERE node = ?
          ORDER BY at DESC, id DESC LIMIT ?`).all(node, limit)
      : this.db.prepare(`SELECT node, fid, check_id, at, status, event FROM finding_events WHERE node = ? AND fid = ?
          ORDER BY at DESC, id DESC LIMIT ?`).all(node, findingId, limit);
    return (rows as Array<{ node: string; fid: string; check_id: string; at: number; status: string; event: string }>)
      .map((r) => ({ node: r.node, findingId: r.fid, checkId: r.check_id, at: r.at, status: r.status, event: r.event }) as FindingEvent);
  }

  async nodeScores(node: string, limit: number): Promise<ScorePoint[]> {
    const rows = this.db.prepare('SELECT * FROM node_scores WHERE node = ? ORDER BY at DESC LIMIT ?').all(node, limit) as Array<
      { at: number; pass: number; fail: number; warn: number; skip: number; error: number }>;
    return rows.map((r) => ({ at: r.at, summary: { pass: r.pass, fail: r.fail, warn: r.warn, skip: r.skip, error: r.error } }));
  }

  async checks(): Promise<CheckRecord[]> {
    const checks = this.db.prepare('SELECT * FROM checks').all() as CheckRowOut[];
    const counts = this.db.prepare('SELECT check_id, status, n FROM check_counts WHERE n <> 0').all() as
      Array<{ check_id: string; status: 'pass'; n: number }>;
    return toCheckRecords(checks, counts);
  }

  async openCounts(): Promise<OpenCount[]> {
    return this.db.prepare(`SELECT status, severity, SUM(n) AS n FROM check_counts GROUP BY status, severity
      HAVING SUM(n) <> 0`).all() as OpenCount[];
  }

  async settings(resourceKinds: string[]): Promise<SettingRow[]> {
    const rows = this.db.prepare(`SELECT node, fid, check_id, status, severity, value_key FROM findings
      WHERE resolved_at IS NULL AND resource_kind IN (${resourceKinds.map(() => '?').join(', ')})`).raw().all(...resourceKinds) as
      Array<[string, string, string, SettingRow['status'], SettingRow['severity'], string | null]>;
    return rows.map(([node, findingId, checkId, status, severity, valueKey]) => ({ node, findingId, checkId, status, severity, valueKey }));
  }

  async facts(selector: FactSelector): Promise<StoredFinding[]> {
    const { text, values } = factsQuery('sqlite', selector);
    return (this.db.prepare(text).all(...values) as FindingRowOut[]).map(toStoredFinding);
  }

  async recordClusterScore(at: number, score: unknown): Promise<void> {
    this.db.prepare('INSERT INTO cluster_scores (at, score) VALUES (?, ?) ON CONFLICT (at) DO NOTHING').run(at, JSON.stringify(score));
  }

  async clusterScores(limit: number): Promise<Array<{ at: number; score: unknown }>> {
    const rows = this.db.prepare('SELECT at, score FROM cluster_scores ORDER BY at DESC LIMIT ?').all(limit) as Array<{ at: number; score: string }>;
    return rows.map((r) => ({ at: r.at, score: JSON.parse(r.score) as unknown }));
  }

  async purgeResolved(before: number): Promise<number> {
    return this.db.transaction(() => {
      this.db.prepare(`DELETE FROM finding_events WHERE EXISTS (SELECT 1 FROM findings f WHERE f.node = finding_events.node
        AND f.fid = finding_events.fid AND f.resolved_at IS NOT NULL AND f.resolved_at < ?)`).run(before);
      this.db.prepare('DELETE FROM node_scores WHERE at < ?').run(before);
      this.db.prepare('DELETE FROM cluster_scores WHERE at < ?').run(before);
      return this.db.prepare('DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ?').run(before).changes;
    })();
  }

  async recordTrend(sample: TrendSample): Promise<void> {
    const f = sample.failing;
    const o = sample.open;
    this.db.prepare(`INSERT INTO trend_samples (at, fail_critical, fail_high, fail_medium, fail_low, fail_info, pass, fail, warn, skip, error)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (at) DO UPDATE SET fail_critical = excluded.fail_critical, fail_high = excluded.fail_high,
        fail_medium = excluded.fail_medium, fail_low = excluded.fail_low, fail_info = excluded.fail_info, pass = excluded.pass,
        fail = excluded.fail, warn = excluded.warn, skip = excluded.skip, error = excluded.error`)
      .run(sample.at, f.critical, f.high, f.medium, f.low, f.info, o.pass, o.fail, o.warn, o.skip, o.error);
  }

  async pruneTrend(before: number): Promise<void> {
    this.db.prepare('DELETE FROM trend_samples WHERE at < ?').run(before);
  }

  async trend(since: number): Promise<TrendSample[]> {
    const rows = this.db.prepare('SELECT * FROM trend_samples WHERE at >= ? ORDER BY at').all(hourOf(since)) as TrendRowOut[];
    return rows.map(toTrendSample);
  }

  async changes(query: ChangesQuery): Promise<Page<ChangeRecord>> {
    const { text, values } = changesQuery('sqlite', query);
    const rows = this.statement(text).all(...values) as ChangeRowOut[];
    const more = rows.length > query.limit;
    if (more) rows.pop();
    const items = rows.map(toChangeRecord);
    const last = items[items.length - 1];
    return { items, nextAfter: more && last ? [last.at, last.node, last.findingId, last.seq] satisfies ChangeKey : null };
  }

  async nodeHistory(node: string, query: HistoryQuery): Promise<Page<HistoryRecord>> {
    const candidates = historyFindingsQuery('sqlite', node, query.since);
    const rows = this.db.prepare(candidates.text).all(...candidates.values) as HistoryRowOut[];
    const failed = this.db.prepare(`SELECT fid, MAX(at) AS at FROM finding_events WHERE node = ? AND status = 'fail' GROUP BY fid`)
      .all(node) as Array<{ fid: string; at: number }>;
    const events = this.db.prepare(`SELECT fid, at, status, event FROM finding_events WHERE node = ? AND at >= ?
      ORDER BY at DESC, id DESC`).all(node, query.since) as HistoryEventRow[];
    return buildHistory(rows, new Map(failed.map((r) => [r.fid, r.at])), events, query);
  }

  observe(listener: (changes: StoredChanges) => void): void {
    this.observers.add(listener);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
