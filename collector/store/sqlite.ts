// The embedded store: better-sqlite3 in WAL mode, one file under --data-dir. Writes go through one connection,
// one at a time; reads through a second one, so they see only committed data even while a large report is being
// written a slice at a time (see slices.ts).
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { IngestMessage, IngestResult } from './messages.js';
import { planSteps, type ExistingFinding, type IngestPlan } from './plan.js';
import { admit, ChangeTotals, CheckMetaCache, CountTotals, nodeWrite, Observers, touchedIds } from './apply.js';
import { StoreHealth, StoreUnavailableError } from './errors.js';
import { buildHistory, type HistoryEventRow } from './history.js';
import { runMigrations, type MigrationConnection } from './migrations.js';
import { Checkpointer } from './sqlite-checkpointer.js';
import { runSteps, runStepsSliced, TimeSlicer, type Steps } from './slices.js';
import {
  toChangeRecord, toCheckRecords, toNodeRecord, toStoredFinding, toTrendSample, type CheckRowOut, type NodeRowOut, type TrendRowOut,
} from './rows.js';
import {
  changesQuery, checksMatchingQuery, factsQuery, findingsQuery, historyFindingsQuery, nodesQuery, openCountQuery,
  ORDERED_BY_CHECK_ARMS, sortKeyOf, WALK_ABOVE, type ChangeRowOut, type FindingRowOut, type HistoryRowOut,
} from './sql.js';
import { hourOf } from './trend.js';
import type {
  CorrelationHead, CorrelationWrite, LeaderLease, LeaderTerm, NodeHead, StoredCorrelationResult,
  ChangeKey, ChangeRecord, ChangesQuery, CheckRecord, FactSelector, OpenCount, FindingEvent, FindingQuery, HistoryQuery,
  HistoryRecord, NodeQuery, NodeRecord, Page, ScorePoint, SeqPosition, SettingRow, Store, StoredChanges, StoredFinding,
  TrendSample,
} from './types.js';

export const SQLITE_FILE = 'vigil.db';
/** Present while a collector has the store open, so a start after a crash knows it is one. */
const OPEN_MARKER = `${SQLITE_FILE}.open`;
/** A batch with more findings than this is written a slice at a time, in one transaction. */
const SLICED_ABOVE = 2_000;
/** Rows read or written between two points where a sliced write may give the event loop a turn. */
const ROW_STEP = 16;
/**
 * The writer's page cache during a transaction of more findings than SMALL_CACHE_ABOVE (KiB, negative as PRAGMA
 * cache_size takes it): dirty pages beyond it go to the log as the transaction runs, so the COMMIT has at most this
 * much left to write (with the usual 128 MiB, a 150,000-finding COMMIT wrote for 140 ms of CPU at once; with 16 MiB,
 * 70 ms). Ordinary batches (up to 50,000 findings of many nodes) keep the large cache: shrinking it for them cost a
 * third of the ingest rate.
 */
const SMALL_CACHE_SIZE = -16384;
const SMALL_CACHE_ABOVE = 100_000;
/** After a write failed on a full disk, the store is ready again once this much is free (a few large reports). */
const DISK_HEADROOM = 32 * 1024 * 1024;

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** fsync(2) of a file on libuv's thread pool, off the event loop. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function freeBytes(dir: string): number {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
}

interface SqliteOptions {
  /** `FULL` (default) fsyncs every commit; `NORMAL` is safe against corruption but may lose the last commits on power loss. */
  synchronous?: 'FULL' | 'NORMAL';
}

/** What the collector says when it will not start on a damaged file. */
function corruptStoreError(file: string, detail: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError('corrupt', `the SQLite store ${file} is corrupt (${detail}); the collector will not start on it. `
    + 'Restore the file from a backup, or move it (and its -wal file) away to start with an empty store.', { cause });
}

function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

/** What a plan reads of a stored finding: the body only of rows stored before their hash was (see ExistingFinding). */
const EXISTING_COLUMNS = 'fid, check_id AS checkId, status, severity, hash, CASE WHEN hash IS NULL THEN body END AS body, resolved_at AS resolvedAt';

/** The write path's statements, compiled once the schema exists. */
function prepareStatements(db: Database.Database) {
  return {
    node: db.prepare('SELECT * FROM nodes WHERE name = ?'),
    existing: db.prepare(`SELECT ${EXISTING_COLUMNS} FROM findings WHERE node = ?`),
    /** A delta reads only the findings it names (a JSON array of ids). */
    existingOf: db.prepare(`SELECT ${EXISTING_COLUMNS} FROM findings WHERE node = ? AND fid IN (SELECT value FROM json_each(?))`),
    resolve: db.prepare('UPDATE findings SET resolved_at = ?, last_seen = ? WHERE node = ? AND fid = ?'),
    insert: db.prepare(`INSERT INTO findings (node, fid, check_id, status, severity, sev_rank, status_rank, resource_kind, namespace,
        pod, evidence_key, pss, value_key, body, hash, first_status, first_seen, changed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    upsert: db.prepare(`INSERT INTO findings (node, fid, check_id, status, severity, sev_rank, status_rank, resource_kind, namespace,
        pod, evidence_key, pss, value_key, body, hash, first_status, first_seen, changed_at, last_seen, resolved_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
      ON CONFLICT (node, fid) DO UPDATE SET check_id = excluded.check_id, status = excluded.status,
        severity = excluded.severity, sev_rank = excluded.sev_rank, status_rank = excluded.status_rank,
        resource_kind = excluded.resource_kind,
        namespace = excluded.namespace, pod = excluded.pod, evidence_key = excluded.evidence_key, pss = excluded.pss,
        value_key = excluded.value_key, body = excluded.body, hash = excluded.hash,
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
    probe: db.prepare('INSERT INTO store_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
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
  /** How the store was found at start, for the log: a crash recovered from, a write-ahead log gone missing. */
  readonly startupNotes: Array<{ level: 'info' | 'warn'; message: string }> = [];
  /** The write connection: every write, one at a time (see exclusive()). */
  private readonly db: Database.Database;
  /** The read connection: sees committed data only, even while a sliced write keeps its transaction open. */
  private readonly reader: Database.Database;
  private readonly file: string;
  private readonly synchronous: 'FULL' | 'NORMAL';
  private readonly checkpointer: Checkpointer;
  private readonly checkCache = new CheckMetaCache();
  private readonly health = new StoreHealth();
  private prepared: Statements | undefined;
  private verified = false;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly observers = new Observers();
  /** Query shapes repeat (same filters, different values): compiling a many-armed statement costs more than running it. */
  private readonly statementCache = new Map<string, Database.Statement>();

  constructor(readonly dataDir: string, opts: SqliteOptions = {}) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.file = join(dataDir, SQLITE_FILE);
    this.synchronous = opts.synchronous ?? 'FULL';
    this.noteUncleanStop();
    const opened: Database.Database[] = [];
    try {
      const db = new Database(this.file);
      opened.push(db);
      // Findings rows are ~1 KB and clustered by (node, fid) (WITHOUT ROWID): pages must hold many of them.
      // Only takes effect when the file is created.
      db.pragma('page_size = 16384');
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.synchronous}`);
      // Checkpoints run on the checkpointer's thread, not inside a COMMIT on the event loop's.
      db.pragma('wal_autocheckpoint = 0');
      db.pragma('busy_timeout = 5000');
      // Index pages of a few hundred thousand findings must stay in memory or every insert becomes a page read.
      db.pragma('cache_size = -131072');
      db.pragma('temp_store = MEMORY');
      const reader = new Database(this.file);
      opened.push(reader);
      reader.pragma('busy_timeout = 5000');
      reader.pragma('cache_size = -131072');
      reader.pragma('temp_store = MEMORY');
      reader.pragma('query_only = ON');
      this.db = db;
      this.reader = reader;
    } catch (err) {
      for (const db of opened) db.close();
      throw isCorruption(err) ? corruptStoreError(this.file, (err as Error).message, err) : err;
    }
    this.checkpointer = new Checkpointer(this.file, (err) => { this.health.noteFailure(err, true); });
    writeFileSync(join(dataDir, OPEN_MARKER), `${process.pid}\n`, { mode: 0o600 });
  }

  /** A marker left by a collector that did not stop cleanly: with its WAL SQLite recovers; without, acked reports are gone. */
  private noteUncleanStop(): void {
    if (!existsSync(join(this.dataDir, OPEN_MARKER)) || !existsSync(this.file)) return;
    if (existsSync(`${this.file}-wal`)) {
      this.startupNotes.push({ level: 'info', message: 'the previous collector did not stop cleanly; SQLite recovers what it committed from the write-ahead log' });
    } else {
      this.startupNotes.push({ level: 'warn', message: `the previous collector did not stop cleanly and its write-ahead log ${this.file}-wal is missing: `
        + 'reports it acknowledged after the last checkpoint are lost (was the data directory copied or restored without it?)' });
    }
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
      stmt = this.reader.prepare(text);
      this.statementCache.set(text, stmt);
    }
    return stmt;
  }

  /** Writes one at a time: a sliced write keeps its transaction open across event-loop turns. */
  private exclusive<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.writes.then(() => this.health.write(work)).finally(() => this.checkpointer.afterCommit());
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** Every page of the file is read once at start (PRAGMA quick_check): a damaged store is refused, not served. */
  private verify(): void {
    if (this.verified) return;
    let rows: Array<{ quick_check: string }>;
    try {
      rows = this.db.pragma('quick_check(5)') as Array<{ quick_check: string }>;
    } catch (err) {
      throw isCorruption(err) ? corruptStoreError(this.file, (err as Error).message, err) : err;
    }
    if (rows.length !== 1 || rows[0].quick_check !== 'ok') throw corruptStoreError(this.file, rows.map((r) => r.quick_check).join('; '));
    this.verified = true;
  }

  async migrate(): Promise<number> {
    this.verify();
    const version = await runMigrations(sqliteMigrationConnection(this.db));
    this.prepared ??= prepareStatements(this.db);
    return version;
  }

  /** Readiness: real queries on the read connection; after a failed write, a probe write must succeed too. */
  async ping(): Promise<void> {
    await this.health.read(() => {
      this.reader.prepare('SELECT MAX(version) FROM schema_migrations').get();
      this.reader.prepare('SELECT name FROM nodes ORDER BY name LIMIT 1').get();
      this.reader.prepare('SELECT fid FROM findings ORDER BY node, fid LIMIT 1').get();
    });
    if (this.health.writeFailing) {
      await this.exclusive(() => {
        // A small write can land in write-ahead-log space the failed one already took: free space decides first.
        const free = freeBytes(this.dataDir);
        if (free < DISK_HEADROOM) {
          throw Object.assign(new Error(`${mib(free)} free under ${this.dataDir}; ingest resumes with at least ${mib(DISK_HEADROOM)}`),
            { code: 'ENOSPC' });
        }
        this.stmts.probe.run(Date.now());
      });
    }
    const fault = this.health.fault;
    if (fault) throw fault;
  }

  private getNode(name: string): NodeRecord | undefined {
    const row = this.stmts.node.get(name) as NodeRowOut | undefined;
    return row ? toNodeRecord(row) : undefined;
  }

  /** The stored findings a message's plan needs: all of the node's for a full report, those it names for a delta. */
  private *existingSteps(message: IngestMessage): Steps<ExistingFinding[]> {
    const rows = message.kind === 'full'
      ? this.stmts.existing.iterate(message.node)
      : this.stmts.existingOf.iterate(message.node, JSON.stringify(touchedIds(message)));
    const existing: ExistingFinding[] = [];
    for (const row of rows as IterableIterator<ExistingFinding>) {
      existing.push(row);
      if (existing.length % ROW_STEP === 0) yield;
    }
    return existing;
  }

  private *applySteps(message: IngestMessage, receivedAt: number, totals: CountTotals, changes: ChangeTotals): Steps<IngestResult> {
    const s = this.stmts;
    const node = this.getNode(message.node);
    const admission = admit(message, node, receivedAt);
    if (admission.kind === 'skip') return admission.result;
    const existing = yield* this.existingSteps(message);
    const before = node && { summary: node.summary, failing: node.failingBySeverity };
    const plan: IngestPlan = yield* planSteps(existing, message, before);
    const write = nodeWrite(message, node, plan, receivedAt, admission.position);
    const at = write.lastScan;
    const previousScan = node?.lastScan ?? at;
    let n = 0;
    for (const fid of plan.resolve) {
      s.resolve.run(at, previousScan, message.node, fid);
      if (++n % ROW_STEP === 0) yield;
    }
    for (const c of plan.inserts) {
      s.insert.run(message.node, c.fid, c.checkId, c.status, c.severity, c.sevRank, c.statusRank, c.resourceKind, c.namespace, c.pod,
        c.evidenceKey, c.pss, c.valueKey, c.body, c.hash, c.status, at, at);
      if (++n % ROW_STEP === 0) yield;
    }
    for (const c of plan.upserts) {
      s.upsert.run(message.node, c.fid, c.checkId, c.status, c.severity, c.sevRank, c.statusRank, c.resourceKind, c.namespace, c.pod,
        c.evidenceKey, c.pss, c.valueKey, c.body, c.hash, c.status, at, at);
      if (++n % ROW_STEP === 0) yield;
    }
    for (const e of plan.events) {
      s.event.run(message.node, e.findingId, e.checkId, at, e.status, e.event);
      if (++n % ROW_STEP === 0) yield;
    }
    yield* totals.add(plan);
    for (const c of plan.checks.values()) {
      if (this.checkCache.isNew(c)) s.check.run(c.checkId, c.cis, c.title, c.component, c.severity);
      if (++n % ROW_STEP === 0) yield;
    }
    changes.add(write, plan);
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

  private *batchSteps(messages: IngestMessage[], receivedAt: number, changes: ChangeTotals): Steps<IngestResult[]> {
    const totals = new CountTotals();
    const results: IngestResult[] = [];
    for (const m of messages) results.push(yield* this.applySteps(m, receivedAt, totals, changes));
    let n = 0;
    for (const row of totals.rows()) {
      this.stmts.count.run(...row);
      if (++n % ROW_STEP === 0) yield;
    }
    return results;
  }

  /**
   * One transaction per batch. A small batch is written in one go; a large one (a 150,000-finding report) a slice at
   * a time, its transaction open across event-loop turns: the read connection keeps serving the last committed state.
   * Observers hear what changed once it is committed.
   */
  async applyBatch(messages: IngestMessage[], receivedAt: number): Promise<IngestResult[]> {
    const findings = messages.reduce((n, m) => n + (m.kind === 'full' ? m.report.findings.length : m.upserts.length + m.resolved.length), 0);
    const changes = new ChangeTotals();
    const results = await this.exclusive(async () => {
      try {
        if (findings <= SLICED_ABOVE) return this.db.transaction(() => runSteps(this.batchSteps(messages, receivedAt, changes)))();
        const cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
        if (findings > SMALL_CACHE_ABOVE) this.db.pragma(`cache_size = ${SMALL_CACHE_SIZE}`);
        try {
          this.db.exec('BEGIN IMMEDIATE');
          const applied = await runStepsSliced(this.batchSteps(messages, receivedAt, changes), new TimeSlicer());
          // What was written to the log so far reaches the disk off the event loop; COMMIT then syncs only the rest.
          if (this.synchronous === 'FULL') await syncFile(`${this.file}-wal`);
          this.db.exec('COMMIT');
          return applied;
        } finally {
          this.db.pragma(`cache_size = ${cacheSize}`);
        }
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        this.checkCache.clear();
        throw err;
      }
    });
    this.observers.notify(changes.result());
    return results;
  }

  async lastSeq(node: string): Promise<number | undefined> {
    return (await this.node(node))?.lastSeq ?? undefined;
  }

  async position(node: string): Promise<SeqPosition | undefined> {
    const n = await this.node(node);
    return n ? { epoch: n.epoch ?? null, seq: n.lastSeq, scan: n.seqScan ?? null } : undefined;
  }

  async findings(query: FindingQuery): Promise<Page<StoredFinding>> {
    return this.health.read(() => {
      let checkIds: string[] | undefined;
      if (query.cis !== undefined || query.component !== undefined) {
        const m = checksMatchingQuery('sqlite', query);
        checkIds = (this.statement(m.text).raw().all(...m.values) as string[][]).map((r) => r[0]);
        if (checkIds.length === 0) return { items: [], nextAfter: null };
      }
      let walkSortOrder = false;
      if (checkIds && !ORDERED_BY_CHECK_ARMS.has(query.sort)) {
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
    });
  }

  async nodes(query: NodeQuery): Promise<Page<NodeRecord>> {
    return this.health.read(() => {
      const { text, values } = nodesQuery('sqlite', query);
      const rows = this.statement(text).all(...values) as NodeRowOut[];
      const more = rows.length > query.limit;
      if (more) rows.pop();
      return { items: rows.map(toNodeRecord), nextAfter: more ? [rows[rows.length - 1].name] : null };
    });
  }

  async node(name: string): Promise<NodeRecord | undefined> {
    return this.health.read(() => {
      const row = this.statement('SELECT * FROM nodes WHERE name = ?').get(name) as NodeRowOut | undefined;
      return row ? toNodeRecord(row) : undefined;
    });
  }

  async allNodes(): Promise<NodeRecord[]> {
    return this.health.read(() => (this.statement('SELECT * FROM nodes ORDER BY name').all() as NodeRowOut[]).map(toNodeRecord));
  }

  async nodeCounts(silentBefore: number): Promise<{ total: number; silent: number }> {
    return this.health.read(() => {
      const row = this.statement('SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE last_report < ?) AS silent FROM nodes')
        .get(silentBefore) as { total: number; silent: number };
      return { total: row.total, silent: row.silent };
    });
  }

  async optimize(): Promise<void> {
    // Plans for the findings queries are steered explicitly (see QueryHints); this keeps the rest current.
    await this.exclusive(() => {
      this.db.pragma('analysis_limit = 1000');
      this.db.pragma('optimize');
      // The read connection plans the queries: it reloads the statistics the write connection just gathered.
      this.reader.pragma('query_only = OFF');
      try {
        this.reader.exec('ANALYZE sqlite_schema');
      } finally {
        this.reader.pragma('query_only = ON');
      }
    });
  }

  async findingEvents(node: string, limit: number, findingId?: string): Promise<FindingEvent[]> {
    return this.health.read(() => {
      const rows = findingId === undefined
        ? this.statement(`SELECT node, fid, check_id, at, status, event FROM finding_events WHERE node = ?
            ORDER BY at DESC, id DESC LIMIT ?`).all(node, limit)
        : this.statement(`SELECT node, fid, check_id, at, status, event FROM finding_events WHERE node = ? AND fid = ?
            ORDER BY at DESC, id DESC LIMIT ?`).all(node, findingId, limit);
      return (rows as Array<{ node: string; fid: string; check_id: string; at: number; status: string; event: string }>)
        .map((r) => ({ node: r.node, findingId: r.fid, checkId: r.check_id, at: r.at, status: r.status, event: r.event }) as FindingEvent);
    });
  }

  async nodeScores(node: string, limit: number): Promise<ScorePoint[]> {
    return this.health.read(() => {
      const rows = this.statement('SELECT * FROM node_scores WHERE node = ? ORDER BY at DESC LIMIT ?').all(node, limit) as Array<
        { at: number; pass: number; fail: number; warn: number; skip: number; error: number }>;
      return rows.map((r) => ({ at: r.at, summary: { pass: r.pass, fail: r.fail, warn: r.warn, skip: r.skip, error: r.error } }));
    });
  }

  async checks(): Promise<CheckRecord[]> {
    return this.health.read(() => {
      const checks = this.statement('SELECT * FROM checks').all() as CheckRowOut[];
      const counts = this.statement('SELECT check_id, status, n FROM check_counts WHERE n <> 0').all() as
        Array<{ check_id: string; status: 'pass'; n: number }>;
      return toCheckRecords(checks, counts);
    });
  }

  async openCounts(): Promise<OpenCount[]> {
    return this.health.read(() => this.statement(`SELECT status, severity, SUM(n) AS n FROM check_counts GROUP BY status, severity
      HAVING SUM(n) <> 0`).all() as OpenCount[]);
  }

  async settings(resourceKinds: string[]): Promise<SettingRow[]> {
    return this.health.read(() => {
      const rows = this.reader.prepare(`SELECT node, fid, check_id, status, severity, value_key FROM findings
        WHERE resolved_at IS NULL AND resource_kind IN (${resourceKinds.map(() => '?').join(', ')})`).raw().all(...resourceKinds) as
        Array<[string, string, string, SettingRow['status'], SettingRow['severity'], string | null]>;
      return rows.map(([node, findingId, checkId, status, severity, valueKey]) => ({ node, findingId, checkId, status, severity, valueKey }));
    });
  }

  async facts(selector: FactSelector): Promise<StoredFinding[]> {
    return this.health.read(() => {
      const { text, values } = factsQuery('sqlite', selector);
      return (this.reader.prepare(text).all(...values) as FindingRowOut[]).map(toStoredFinding);
    });
  }

  async recordClusterScore(at: number, score: unknown): Promise<void> {
    await this.exclusive(() => {
      this.db.prepare('INSERT INTO cluster_scores (at, score) VALUES (?, ?) ON CONFLICT (at) DO NOTHING').run(at, JSON.stringify(score));
    });
  }

  async clusterScores(limit: number): Promise<Array<{ at: number; score: unknown }>> {
    return this.health.read(() => {
      const rows = this.statement('SELECT at, score FROM cluster_scores ORDER BY at DESC LIMIT ?').all(limit) as Array<{ at: number; score: string }>;
      return rows.map((r) => ({ at: r.at, score: JSON.parse(r.score) as unknown }));
    });
  }

  async purgeResolved(before: number): Promise<number> {
    return this.exclusive(() => this.db.transaction(() => {
      this.db.prepare(`DELETE FROM finding_events WHERE EXISTS (SELECT 1 FROM findings f WHERE f.node = finding_events.node
        AND f.fid = finding_events.fid AND f.resolved_at IS NOT NULL AND f.resolved_at < ?)`).run(before);
      this.db.prepare('DELETE FROM node_scores WHERE at < ?').run(before);
      this.db.prepare('DELETE FROM cluster_scores WHERE at < ?').run(before);
      return this.db.prepare('DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ?').run(before).changes;
    })());
  }

  async recordTrend(sample: TrendSample): Promise<void> {
    const f = sample.failing;
    const o = sample.open;
    await this.exclusive(() => {
      this.db.prepare(`INSERT INTO trend_samples (at, fail_critical, fail_high, fail_medium, fail_low, fail_info, pass, fail, warn, skip, error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (at) DO UPDATE SET fail_critical = excluded.fail_critical, fail_high = excluded.fail_high,
          fail_medium = excluded.fail_medium, fail_low = excluded.fail_low, fail_info = excluded.fail_info, pass = excluded.pass,
          fail = excluded.fail, warn = excluded.warn, skip = excluded.skip, error = excluded.error`)
        .run(sample.at, f.critical, f.high, f.medium, f.low, f.info, o.pass, o.fail, o.warn, o.skip, o.error);
    });
  }

  async pruneTrend(before: number): Promise<void> {
    await this.exclusive(() => {
      this.db.prepare('DELETE FROM trend_samples WHERE at < ?').run(before);
    });
  }

  async trend(since: number): Promise<TrendSample[]> {
    return this.health.read(() =>
      (this.statement('SELECT * FROM trend_samples WHERE at >= ? ORDER BY at').all(hourOf(since)) as TrendRowOut[]).map(toTrendSample));
  }

  async changes(query: ChangesQuery): Promise<Page<ChangeRecord>> {
    return this.health.read(() => {
      const { text, values } = changesQuery('sqlite', query);
      const rows = this.statement(text).all(...values) as ChangeRowOut[];
      const more = rows.length > query.limit;
      if (more) rows.pop();
      const items = rows.map(toChangeRecord);
      const last = items[items.length - 1];
      return { items, nextAfter: more && last ? [last.at, last.node, last.findingId, last.seq] satisfies ChangeKey : null };
    });
  }

  async nodeHistory(node: string, query: HistoryQuery): Promise<Page<HistoryRecord>> {
    return this.health.read(() => {
      // Three reads of one committed state: no write commits between them (they run in one turn of the event loop).
      const candidates = historyFindingsQuery('sqlite', node, query.since);
      const rows = this.statement(candidates.text).all(...candidates.values) as HistoryRowOut[];
      const failed = this.statement(`SELECT fid, MAX(at) AS at FROM finding_events WHERE node = ? AND status = 'fail' GROUP BY fid`)
        .all(node) as Array<{ fid: string; at: number }>;
      const events = this.statement(`SELECT fid, at, status, event FROM finding_events WHERE node = ? AND at >= ?
        ORDER BY at DESC, id DESC`).all(node, query.since) as HistoryEventRow[];
      return buildHistory(rows, new Map(failed.map((r) => [r.fid, r.at])), events, query);
    });
  }

  observe(listener: (changes: StoredChanges) => void): void {
    this.observers.add(listener);
  }

  /** Closes both connections once the writes under way are done; the last close checkpoints and removes the WAL. */
  async close(): Promise<void> {
    await this.writes;
    await this.checkpointer.close();
    if (this.reader.open) this.reader.close();
    if (this.db.open) {
      this.db.close();
      rmSync(join(this.dataDir, OPEN_MARKER), { force: true });
    }
  }

  // ---- several replicas: leadership, the stored correlation result, correlation inputs of some nodes ----
  // One process owns the file: its lease is always granted; terms and the stored result work as on PostgreSQL.

  async nodesNamed(names: readonly string[]): Promise<NodeRecord[]> {
    return this.health.read(() => (this.statement('SELECT * FROM nodes WHERE name IN (SELECT value FROM json_each(?)) ORDER BY name')
      .all(JSON.stringify(names)) as NodeRowOut[]).map(toNodeRecord));
  }

  async nodeHeads(): Promise<NodeHead[]> {
    return this.health.read(() => this.statement('SELECT name, last_report AS lastReport, role_key AS roleKey FROM nodes ORDER BY name')
      .all() as NodeHead[]);
  }

  async factsOf(selector: FactSelector, nodes: readonly string[]): Promise<StoredFinding[]> {
    if (nodes.length === 0) return [];
    return this.health.read(() => {
      const { text, values } = factsQuery('sqlite', selector);
      return (this.statement(`${text} AND f.node IN (SELECT value FROM json_each(?))`).all(...values, JSON.stringify(nodes)) as FindingRowOut[])
        .map(toStoredFinding);
    });
  }

  async settingsOf(resourceKinds: string[], nodes: readonly string[]): Promise<SettingRow[]> {
    if (nodes.length === 0) return [];
    return this.health.read(() => this.statement(`SELECT node, fid AS findingId, check_id AS checkId, status, severity, value_key AS valueKey
      FROM findings WHERE resolved_at IS NULL AND resource_kind IN (SELECT value FROM json_each(?))
        AND node IN (SELECT value FROM json_each(?))`).all(JSON.stringify(resourceKinds), JSON.stringify(nodes)) as SettingRow[]);
  }

  leaderLease(replica: string): LeaderLease {
    let term: number | undefined;
    return {
      tryAcquire: (now) => this.exclusive(() => {
        const row = this.db.prepare(`INSERT INTO leader_terms (term, replica, started_at, last_seen)
          SELECT COALESCE(MAX(term), 0) + 1, ?, ?, ? FROM leader_terms RETURNING term`).get(replica, now, now) as { term: number };
        term = row.term;
        return term;
      }),
      renew: (now) => this.exclusive(() => {
        if (term === undefined) return false;
        this.db.prepare('UPDATE leader_terms SET last_seen = ? WHERE term = ?').run(now, term);
        return true;
      }),
      release: async (now) => {
        if (term === undefined) return;
        const ended = term;
        term = undefined;
        await this.exclusive(() => { this.db.prepare('UPDATE leader_terms SET ended_at = ?, last_seen = ? WHERE term = ?').run(now, now, ended); });
      },
    };
  }

  async leaderTerms(): Promise<LeaderTerm[]> {
    return this.health.read(() => this.statement(`SELECT term, replica, started_at AS startedAt, last_seen AS lastSeen, ended_at AS endedAt
      FROM leader_terms ORDER BY term`).all() as LeaderTerm[]);
  }

  async saveCorrelations(term: number, result: CorrelationWrite): Promise<boolean> {
    return this.exclusive(() => this.db.transaction(() => {
      const newest = (this.db.prepare('SELECT MAX(term) AS term FROM leader_terms').get() as { term: number | null }).term;
      if (newest !== term) return false;
      const upsert = this.db.prepare('INSERT INTO correlation_items (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body');
      for (const u of result.upserts) upsert.run(u.id, u.body);
      const remove = this.db.prepare('DELETE FROM correlation_items WHERE id = ?');
      for (const id of result.deletes) remove.run(id);
      this.db.prepare(`UPDATE correlation_state SET version = version + 1, computed_at = ?, ms = ?, score = ?, term = ?, replica = ?
        WHERE id = 1`).run(result.computedAt, result.ms, JSON.stringify(result.score), term, result.replica);
      return true;
    })());
  }

  async correlationHead(): Promise<CorrelationHead> {
    return this.health.read(() => this.statement('SELECT version, computed_at AS computedAt, ms, term, replica FROM correlation_state WHERE id = 1')
      .get() as CorrelationHead);
  }

  async storedCorrelations(): Promise<StoredCorrelationResult> {
    return this.health.read(() => {
      // Both reads in one turn of the event loop: no write commits between them.
      const head = this.statement('SELECT version, computed_at AS computedAt, ms, term, replica, score FROM correlation_state WHERE id = 1')
        .get() as CorrelationHead & { score: string | null };
      const items = this.statement('SELECT id, body FROM correlation_items').all() as Array<{ id: string; body: string }>;
      const { score, ...rest } = head;
      return { ...rest, score: score === null ? null : JSON.parse(score) as unknown, items };
    });
  }
}
