import { describe } from 'vitest';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import { tempDir } from '../../harness/integration.js';
import { defineStoreSuite } from './store-suite.js';

describe('SqliteStore', () => {
  defineStoreSuite(async () => {
    const dir = tempDir('sqlite');
    const store = new SqliteStore(dir.path, { synchronous: 'NORMAL' });
    await store.migrate();
    return { store, cleanup: async () => { await store.close(); dir.cleanup(); } };
  });
});
