// The one migration runner (both stores use it): each migration applies whole or not at all, and only once.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runMigrations, type Migration } from '../../../collector/store/migrations.js';
import { sqliteMigrationConnection } from '../../../collector/store/sqlite.js';

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
