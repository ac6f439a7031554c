import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe } from 'vitest';
import { SQLITE_FILE, SqliteStore } from '../../../collector/store/sqlite.js';
import { tempDir } from '../../harness/integration.js';
import { defineFindingHashSuite } from './finding-hash-suite.js';

describe('SqliteStore: finding hashes', () => {
  defineFindingHashSuite(async () => {
    const dir = tempDir('sqlite-hash');
    const store = new SqliteStore(dir.path, { synchronous: 'NORMAL' });
    await store.migrate();
    const db = new Database(join(dir.path, SQLITE_FILE));
    return {
      store,
      async sql(text, values = []) {
        const statement = db.prepare(text);
        if (statement.reader) return statement.all(...values) as Array<Record<string, unknown>>;
        statement.run(...values);
        return [];
      },
      cleanup: async () => { db.close(); await store.close(); dir.cleanup(); },
    };
  });
});
