// Versioned schema for both stores, and the one runner that applies it. Append new versions; never edit an
// applied one. Times are ms since the epoch (INTEGER / BIGINT). JSON is stored as text (inserted and read whole).
import { Params, type Dialect } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

function schemaV1(d: Dialect): string[] {
  const big = d === 'postgres' ? 'BIGINT' : 'INTEGER';
  const autoId = d === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return [
    `CREATE TABLE nodes (
      name TEXT PRIMARY KEY,
      roles TEXT NOT NULL,
      role_key TEXT NOT NULL,
      agent_version TEXT,
      info TEXT NOT NULL,
      first_seen ${big} NOT NULL,
      last_report ${big} NOT NULL,
      last_scan ${big} NOT NULL,
      last_seq ${big},
      pass INTEGER NOT NULL DEFAULT 0,
      fail INTEGER NOT NULL DEFAULT 0,
      warn INTEGER NOT NULL DEFAULT 0,
      skip INTEGER NOT NULL DEFAULT 0,
      error INTEGER NOT NULL DEFAULT 0
    )`,
    `CREATE TABLE checks (
      check_id TEXT PRIMARY KEY,
      cis TEXT,
      title TEXT NOT NULL,
      component TEXT NOT NULL,
      severity TEXT NOT NULL
    )`,
    'CREATE INDEX checks_cis ON checks (cis)',
    'CREATE INDEX checks_component ON checks (component)',
    `CREATE TABLE check_counts (
      check_id TEXT NOT NULL,
      status TEXT NOT NULL,
      severity TEXT NOT NULL,
      n ${big} NOT NULL,
      PRIMARY KEY (check_id, status, severity)
    )`,
    `CREATE TABLE findings (
      node TEXT NOT NULL,
      fid TEXT NOT NULL,
      check_id TEXT NOT NULL,
      status TEXT NOT NULL,
      severity TEXT NOT NULL,
      sev_rank INTEGER NOT NULL,
      resource_kind TEXT NOT NULL,
      namespace TEXT,
      pod TEXT,
      evidence_key TEXT,
      pss TEXT,
      value_key TEXT,
      body TEXT NOT NULL,
      first_status TEXT NOT NULL,
      first_seen ${big} NOT NULL,
      changed_at ${big} NOT NULL,
      last_seen ${big},
      resolved_at ${big},
      PRIMARY KEY (node, fid)
    )${d === 'sqlite' ? ' WITHOUT ROWID' : ''}`,
    // The default order, carrying status and check id so the common filters are judged from the index alone.
    'CREATE INDEX findings_open_severity ON findings (sev_rank, changed_at, node, fid, status, check_id) WHERE resolved_at IS NULL',
    'CREATE INDEX findings_open_recent ON findings (changed_at, node, fid) WHERE resolved_at IS NULL',
    // Per (check, status), in severity order: check filters read a few ordered slices and merge them.
    'CREATE INDEX findings_open_check ON findings (check_id, status, sev_rank, changed_at, node, fid) WHERE resolved_at IS NULL',
    'CREATE INDEX findings_pod ON findings (namespace, pod) WHERE namespace IS NOT NULL',
    'CREATE INDEX findings_resolved ON findings (resolved_at) WHERE resolved_at IS NOT NULL',
    `CREATE TABLE finding_events (
      id ${autoId},
      node TEXT NOT NULL,
      fid TEXT NOT NULL,
      check_id TEXT NOT NULL,
      at ${big} NOT NULL,
      status TEXT NOT NULL,
      event TEXT NOT NULL
    )`,
    'CREATE INDEX finding_events_node ON finding_events (node, at)',
    `CREATE TABLE node_scores (
      node TEXT NOT NULL,
      at ${big} NOT NULL,
      pass INTEGER NOT NULL,
      fail INTEGER NOT NULL,
      warn INTEGER NOT NULL,
      skip INTEGER NOT NULL,
      error INTEGER NOT NULL
    )`,
    'CREATE INDEX node_scores_node ON node_scores (node, at)',
    `CREATE TABLE cluster_scores (
      at ${big} PRIMARY KEY,
      score TEXT NOT NULL
    )`,
  ];
}

const SEVERITY_COLUMNS: Array<[column: string, severity: string]> = [
  ['fail_critical', 'critical'], ['fail_high', 'high'], ['fail_medium', 'medium'], ['fail_low', 'low'], ['fail_info', 'info'],
];

/** What the dashboard reads: failures by severity per node, the hourly trend, and the indexes of the change feed. */
function schemaV2(d: Dialect): string[] {
  const big = d === 'postgres' ? 'BIGINT' : 'INTEGER';
  const columns = SEVERITY_COLUMNS.map(([c]) => c);
  return [
    ...columns.map((c) => `ALTER TABLE nodes ADD COLUMN ${c} INTEGER NOT NULL DEFAULT 0`),
    // Nodes stored before this version: counted once from their open failures.
    `UPDATE nodes SET (${columns.join(', ')}) = (SELECT ${SEVERITY_COLUMNS.map(([, s]) =>
      `COALESCE(SUM(CASE WHEN f.severity = '${s}' THEN 1 ELSE 0 END), 0)`).join(', ')}
      FROM findings f WHERE f.node = nodes.name AND f.resolved_at IS NULL AND f.status = 'fail')`,
    `CREATE TABLE trend_samples (
      at ${big} PRIMARY KEY,
      ${columns.map((c) => `${c} INTEGER NOT NULL`).join(',\n      ')},
      pass INTEGER NOT NULL,
      fail INTEGER NOT NULL,
      warn INTEGER NOT NULL,
      skip INTEGER NOT NULL,
      error INTEGER NOT NULL
    )`,
    // The change feed reads events and first statuses newest first, cluster-wide.
    'CREATE INDEX finding_events_at ON finding_events (at, node, fid, id)',
    'CREATE INDEX findings_first_seen ON findings (first_seen, node, fid)',
  ];
}

/** Who writes each node (and whether it is bound to an identity of its own), and the epoch its seq counts in. */
function nodeIdentityV3(d: Dialect): string[] {
  const big = d === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    'ALTER TABLE nodes ADD COLUMN epoch TEXT',
    `ALTER TABLE nodes ADD COLUMN seq_scan ${big}`,
    'ALTER TABLE nodes ADD COLUMN identity_kind TEXT',
    'ALTER TABLE nodes ADD COLUMN identity_subject TEXT',
    `ALTER TABLE nodes ADD COLUMN bound_at ${big}`,
  ];
}

/**
 * The default findings order, problems first (status rank, then severity, then recency), with its index; and the
 * one-row table readiness writes to when a write has failed (a full disk), to see whether writes work again.
 */
function problemsFirstAndProbeV4(d: Dialect): string[] {
  const big = d === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    'ALTER TABLE findings ADD COLUMN status_rank INTEGER NOT NULL DEFAULT 0',
    `UPDATE findings SET status_rank = CASE status WHEN 'fail' THEN 4 WHEN 'error' THEN 3 WHEN 'warn' THEN 2 WHEN 'pass' THEN 1 ELSE 0 END`,
    `CREATE INDEX findings_open_problems ON findings (status_rank, sev_rank, changed_at, node, fid, status, check_id)
      WHERE resolved_at IS NULL`,
    `CREATE TABLE store_probe (id INTEGER PRIMARY KEY, at ${big} NOT NULL)`,
  ];
}

/**
 * Several replicas: the leader's terms (one row per time a replica became the leader: who, since when, last seen
 * holding it, when it stepped down) and the correlation result the leader stores for every replica to serve (one
 * row per correlation, and one row for the result as a whole: its version, time, score and the term that wrote it).
 */
function replicasV5(d: Dialect): string[] {
  const big = d === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE leader_terms (
      term ${big} PRIMARY KEY,
      replica TEXT NOT NULL,
      started_at ${big} NOT NULL,
      last_seen ${big} NOT NULL,
      ended_at ${big}
    )`,
    `CREATE TABLE correlation_items (
      id TEXT PRIMARY KEY,
      body TEXT NOT NULL
    )`,
    `CREATE TABLE correlation_state (
      id INTEGER PRIMARY KEY,
      version ${big} NOT NULL,
      computed_at ${big} NOT NULL,
      ms INTEGER NOT NULL,
      score TEXT,
      term ${big} NOT NULL,
      replica TEXT
    )`,
    'INSERT INTO correlation_state (id, version, computed_at, ms, score, term, replica) VALUES (1, 0, 0, 0, NULL, 0, NULL)',
  ];
}

/**
 * Each finding's hash of its stored JSON (rows.ts bodyHash): a report's unchanged findings are recognised from it
 * without reading their bodies. Rows written before stay NULL and are compared by body until next rewritten.
 */
function findingHashV6(): string[] {
  return ['ALTER TABLE findings ADD COLUMN hash TEXT'];
}

export function migrations(d: Dialect): Migration[] {
  return [
    { version: 1, name: 'initial schema', statements: schemaV1(d) },
    { version: 2, name: 'failures by severity per node, trend, change feed', statements: schemaV2(d) },
    { version: 3, name: 'node identity and sequence epochs', statements: nodeIdentityV3(d) },
    { version: 4, name: 'problems-first order and the readiness probe', statements: problemsFirstAndProbeV4(d) },
    { version: 5, name: 'leader terms and the stored correlation result', statements: replicasV5(d) },
    { version: 6, name: 'finding body hashes', statements: findingHashV6() },
  ];
}

export const SCHEMA_VERSION = 6;

/** What the runner needs of a database: one connection (so BEGIN … COMMIT spans the statements between them). */
export interface MigrationConnection {
  readonly dialect: Dialect;
  /** Runs one statement with bound values; rows for a query, nothing for the rest. */
  query(sql: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
}

/**
 * Applies every migration newer than the database's version, each in its own transaction together with its
 * `schema_migrations` row; returns the version reached. Concurrent collectors must be kept out by the caller
 * (PostgreSQL: an advisory lock; SQLite: one process owns the file).
 */
export async function runMigrations(db: MigrationConnection, list: readonly Migration[] = migrations(db.dialect)): Promise<number> {
  const big = db.dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${big} NOT NULL)`);
  const [row] = await db.query('SELECT MAX(version) AS v FROM schema_migrations');
  let current = Number(row?.v ?? 0);
  for (const m of list) {
    if (m.version <= current) continue;
    await db.query('BEGIN');
    try {
      for (const statement of m.statements) await db.query(statement);
      const p = new Params(db.dialect);
      await db.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${p.list([m.version, m.name, Date.now()])})`, p.values);
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    current = m.version;
  }
  return current;
}
