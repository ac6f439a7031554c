// Picks the store from the serve options: PostgreSQL when a URL is given, else SQLite under the data dir.
import type { Logger } from 'pino';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

interface StoreConfig {
  dataDir?: string;
  databaseUrl?: string;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
}

export async function openStore(config: StoreConfig, log?: Logger): Promise<Store> {
  let store: Store;
  if (config.databaseUrl) {
    store = new PostgresStore(config.databaseUrl, { onPoolError: (err) => log?.warn({ err }, 'postgres connection error') });
  } else if (config.dataDir) {
    const sqlite = new SqliteStore(config.dataDir, { synchronous: config.sqliteSynchronous });
    for (const note of sqlite.startupNotes) log?.[note.level]({ dataDir: config.dataDir }, note.message);
    store = sqlite;
  } else {
    throw new Error('a store needs --data-dir or --database-url');
  }
  try {
    const version = await store.migrate();
    log?.info({ store: store.kind, schemaVersion: version }, 'store ready');
    return store;
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}
