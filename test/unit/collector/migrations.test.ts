// The one migration runner (both stores use it): each migration applies whole or not at all, and only once.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations, runMigrations, SCHEMA_VERSION, type Migration } from '../../../collector/store/migrations.js';
import { SQLITE_FILE, SqliteStore, sqliteMigrationConnection } from '../../../collector/store/sqlite.js';
import { tempDir } from '../../harness/integration.js';

const tables = (db: Database.Database): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);

describe('runMigrations', () => {
  it('applies pending migrations in order, each in its own transaction, and stops at a failing one', async () => {
    const db = new Database(':memory:');
    const first: Migration = { version: 1, name: 'a', statements: ['CREATE TABLE a (x INTEGER)'] };
    const broken: Migration = { version: 2, name: 'b', statements: ['CREATE TABLE b (x INTEGER)', 'CREATE TABLE a (x INTEGER)'] };
    await expect(runMigrations(sqliteMigrationConnection(db), [first, broken])).rejects.toThrow(/already exists/);
    expect(tables(db)).toEqual(['a', 'schema_migrations']);
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([{ version: 1, name: 'a' }]);

    const fixed: Migration = { version: 2, name: 'b', statements: ['CREATE TABLE b (x INTEGER)'] };
    expect(await runMigrations(sqliteMigrationConnection(db), [first, fixed])).toBe(2);
    expect(await runMigrations(sqliteMigrationConnection(db), [first, fixed])).toBe(2);
    expect(tables(db)).toEqual(['a', 'b', 'schema_migrations']);
    db.close();
  });
});

describe('migration 2 (failures by severity, trend, change feed)', () => {
  it('counts the open failures of nodes stored before it, by severity', async () => {
    const dir = tempDir('migrate-v2');
    try {
      const db = new Database(join(dir.path, SQLITE_FILE));
      await runMigrations(sqliteMigrationConnection(db), migrations('sqlite').slice(0, 1));
      db.prepare(`INSERT INTO nodes (name, roles, role_key, info, first_seen, last_report, last_scan, fail) VALUES
        ('w1', '["worker"]', 'worker', '{}', 0, 0, 0, 3), ('w2', '["worker"]', 'worker', '{}', 0, 0, 0, 0)`).run();
      const insert = db.prepare(`INSERT INTO findings (node, fid, check_id, status, severity, sev_rank, resource_kind, body, first_status,
        first_seen, changed_at, resolved_at) VALUES ('w1', ?, 'c', ?, ?, 0, 'component', '{}', ?, 0, 0, ?)`);
      insert.run('a', 'fail', 'critical', 'fail', null);
      insert.run('b', 'fail', 'high', 'fail', null);
      insert.run('c', 'fail', 'high', 'fail', null);
      insert.run('d', 'pass', 'critical', 'pass', null);
      insert.run('e', 'fail', 'low', 'fail', 5); // resolved: not open
      db.close();

      const store = new SqliteStore(dir.path);
      expect(await store.migrate()).toBe(SCHEMA_VERSION);
      expect((await store.node('w1'))?.failingBySeverity).toEqual({ critical: 1, high: 2, medium: 0, low: 0, info: 0 });
      expect((await store.node('w2'))?.failingBySeverity).toEqual({ critical: 0, high: 0, medium: 0, low: 0, info: 0 });
      expect(await store.trend(0)).toEqual([]);
      await store.close();
    } finally {
      dir.cleanup();
    }
  });
});

describe('migration 4 (problems-first order, readiness probe) after the dashboard (2) and identity (3) ones', () => {
  it('migrates a database at version 3 in order: ranks its stored findings, keeps their nodes\' identity and counts', async () => {
    const dir = tempDir('migrate-v4');
    try {
      const db = new Database(join(dir.path, SQLITE_FILE));
      expect(await runMigrations(sqliteMigrationConnection(db), migrations('sqlite').slice(0, 3))).toBe(3);
      db.prepare(`INSERT INTO nodes (name, roles, role_key, info, first_seen, last_report, last_scan, last_seq, epoch, identity_kind,
        identity_subject, bound_at, fail, warn, fail_high) VALUES ('w1', '["worker"]', 'worker', '{}', 0, 0, 0, 7, 'e1',
        'service-account', 'system:serviceaccount:vigil:vigil-agent', 5, 1, 1, 1)`).run();
      const insert = db.prepare(`INSERT INTO findings (node, fid, check_id, status, severity, sev_rank, resource_kind, body, first_status,
        first_seen, changed_at) VALUES ('w1', ?, 'c', ?, ?, ?, 'component', ?, ?, 0, ?)`);
      const body = (fid: string, status: string, severity: string) => JSON.stringify({ id: fid, checkId: 'c', status, severity });
      insert.run('skip-critical', 'skip', 'critical', 4, body('skip-critical', 'skip', 'critical'), 'skip', 3);
      insert.run('warn-info', 'warn', 'info', 0, body('warn-info', 'warn', 'info'), 'warn', 2);
      insert.run('fail-high', 'fail', 'high', 3, body('fail-high', 'fail', 'high'), 'fail', 1);
      db.close();

      const store = new SqliteStore(dir.path);
      expect(await store.migrate()).toBe(SCHEMA_VERSION);
      const order = (await store.findings({ sort: 'problems', limit: 10 })).items.map((i) => i.finding.id);
      expect(order).toEqual(['fail-high', 'warn-info', 'skip-critical']);
      expect(await store.node('w1')).toMatchObject({ lastSeq: 7, epoch: 'e1', boundAt: 5, identity: { kind: 'service-account' },
        failingBySeverity: { critical: 0, high: 1, medium: 0, low: 0, info: 0 } });
      await store.ping();
      await store.close();
      const after = new Database(join(dir.path, SQLITE_FILE), { readonly: true });
      const names = after.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
      after.close();
      expect(names).toEqual([
        { version: 1, name: 'initial schema' }, { version: 2, name: 'failures by severity per node, trend, change feed' },
        { version: 3, name: 'node identity and sequence epochs' }, { version: 4, name: 'problems-first order and the readiness probe' },
        { version: 5, name: 'leader terms and the stored correlation result' },
        { version: 6, name: 'finding body hashes' },
      ]);
    } finally {
      dir.cleanup();
    }
  });
});
