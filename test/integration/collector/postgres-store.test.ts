import { afterAll, beforeAll } from 'vitest';
import { PostgresStore } from '../../../collector/store/postgres.js';
import { describeWithDaemons } from '../../harness/integration.js';
import { postgresBinaries, startPostgres, type PostgresServer } from '../../harness/postgres.js';
import { defineStoreSuite } from '../../unit/collector/store-suite.js';

describeWithDaemons('PostgresStore (real PostgreSQL)', postgresBinaries, () => {
  let server: PostgresServer;
  let n = 0;
  beforeAll(async () => { server = await startPostgres(); });
  afterAll(async () => { await server?.stop(); });

  defineStoreSuite(async () => {
    const store = new PostgresStore(await server.createDatabase(`suite_${++n}`));
    await store.migrate();
    return { store, cleanup: () => store.close() };
  });
});
