import { afterAll, beforeAll } from 'vitest';
import pg from 'pg';
import { PostgresStore } from '../../../collector/store/postgres.js';
import { describeWithDaemons } from '../../harness/integration.js';
import { postgresBinaries, startPostgres, type PostgresServer } from '../../harness/postgres.js';
import { defineFindingHashSuite } from '../../unit/collector/finding-hash-suite.js';

describeWithDaemons('PostgresStore: finding hashes (real PostgreSQL)', postgresBinaries, () => {
  let server: PostgresServer;
  let n = 0;
  beforeAll(async () => { server = await startPostgres(); });
  afterAll(async () => { await server?.stop(); });

  defineFindingHashSuite(async () => {
    const url = await server.createDatabase(`hash_${++n}`);
    const store = new PostgresStore(url);
    await store.migrate();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return {
      store,
      async sql(text, values = []) {
        let i = 0;
        return (await client.query(text.replace(/\?/g, () => `$${++i}`), values)).rows as Array<Record<string, unknown>>;
      },
      cleanup: async () => { await client.end(); await store.close(); },
    };
  });
});
