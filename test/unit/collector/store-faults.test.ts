// Store faults the collector must tell apart from bugs (issue 11, item 3): corruption met while running makes reads
// answer 503 and readiness say so for good; driver error codes map to the fault an operator acts on.
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeFault, StoreUnavailableError } from '../../../collector/store/errors.js';
import { SQLITE_FILE } from '../../../collector/store/sqlite.js';
import { tempDir } from '../../harness/integration.js';
import { READ, startTestCollector } from './collector-harness.js';
import { finding, report } from './helpers.js';

function corruptMiddle(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes(512 * 1024), 0, 512 * 1024, Math.floor(size / 3));
  closeSync(fd);
}

describe('store faults', () => {
  it('corruption met while running: reads answer 503 (not 500) and /readyz stays not ready', async () => {
    const dir = tempDir('corrupt-live');
    try {
      const first = await startTestCollector({ dataDir: dir.path });
      for (let n = 0; n < 30; n++) {
        const findings = Array.from({ length: 150 }, (_, i) => finding({ checkId: `check-${i}`, status: i % 2 ? 'pass' : 'fail', remediation: 'r'.repeat(300) }));
        expect((await first.post('/api/v1/reports', report(`node-${n}`, findings))).status).toBe(200);
      }
      await first.close();

      // The new collector checks the file at start (it is sound), then the disk goes bad under it.
      const c = await startTestCollector({ dataDir: dir.path });
      try {
        expect((await c.get('/readyz', '')).status).toBe(200);
        corruptMiddle(join(dir.path, SQLITE_FILE));
        const answers = await Promise.all(['/api/v1/findings?sort=node&limit=1000', '/api/v1/findings?node=node-20',
          '/api/v1/findings?status=pass&limit=1000', '/api/v1/nodes/node-25'].map((path) => c.get(path, READ)));
        const statuses = answers.map((a) => a.status);
        expect(statuses).not.toContain(500);
        expect(statuses).toContain(503);
        const failed = answers.find((a) => a.status === 503)!;
        expect(failed.body).toMatchObject({ error: 'Service Unavailable', code: 'STORE_CORRUPT', message: expect.stringMatching(/^the store is corrupt/) });
        const ready = await c.get('/readyz', '');
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ status: 'store unavailable', fault: 'corrupt' });
      } finally {
        await c.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('the dashboard\'s reads (change feed, trend, node history) and the ingest order\'s position meet corruption as 503 too', async () => {
    const dir = tempDir('corrupt-dashboard');
    try {
      const first = await startTestCollector({ dataDir: dir.path });
      for (let n = 0; n < 10; n++) {
        const findings = Array.from({ length: 150 }, (_, i) => finding({ checkId: `check-${i}`, status: (i + n) % 3 ? 'pass' : 'fail' }));
        expect((await first.post('/api/v1/reports', report(`node-${n}`, findings))).status).toBe(200);
        expect((await first.post('/api/v1/reports', report(`node-${n}`, findings.map((f) => ({ ...f, status: 'fail' as const }))))).status).toBe(200);
      }
      await first.store.recordTrend({ at: Date.now(), failing: { critical: 0, high: 0, medium: 10, low: 0, info: 0 },
        open: { pass: 0, fail: 10, warn: 0, skip: 0, error: 0 } });
      await first.close();

      const c = await startTestCollector({ dataDir: dir.path });
      try {
        expect((await c.get('/readyz', '')).status).toBe(200);
        // Every page but the first (the header and the schema) overwritten, and every frame of the write-ahead log (where
        // this start's trend sample went): whatever a query reads from disk is garbage.
        const file = join(dir.path, SQLITE_FILE);
        const overwrite = (path: string, from: number, step: number): void => {
          const fd = openSync(path, 'r+');
          for (let at = from; at < statSync(path).size; at += step) writeSync(fd, randomBytes(step), 0, step, at);
          closeSync(fd);
        };
        overwrite(file, 16384, 16384);
        if (existsSync(`${file}-wal`)) overwrite(`${file}-wal`, 32, 4096);
        const answers = await Promise.all(['/api/v1/changes?since=1d', '/api/v1/trend', '/api/v1/nodes/node-3/history']
          .map((path) => c.get(path, READ)));
        expect(answers.map((a) => a.status)).toEqual([503, 503, 503]);
        for (const a of answers) expect(a.body).toMatchObject({ error: 'Service Unavailable', code: 'STORE_CORRUPT' });
        await expect(c.store.position('node-4')).rejects.toBeInstanceOf(StoreUnavailableError);
        expect((await c.get('/readyz', '')).body).toMatchObject({ status: 'store unavailable', fault: 'corrupt' });
      } finally {
        await c.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('maps driver errors to the fault behind them', () => {
    const coded = (code: string): Error => Object.assign(new Error(code), { code });
    expect(storeFault(coded('SQLITE_FULL'))).toBe('disk-full');
    expect(storeFault(coded('53100'))).toBe('disk-full'); // PostgreSQL disk_full
    expect(storeFault(coded('ENOSPC'))).toBe('disk-full');
    expect(storeFault(coded('SQLITE_CORRUPT_INDEX'))).toBe('corrupt');
    expect(storeFault(coded('SQLITE_NOTADB'))).toBe('corrupt');
    expect(storeFault(coded('XX001'))).toBe('corrupt'); // PostgreSQL data_corrupted
    expect(storeFault(coded('SQLITE_IOERR_WRITE'))).toBe('io');
    expect(storeFault(coded('58030'))).toBe('io');
    expect(storeFault(coded('SQLITE_CONSTRAINT_PRIMARYKEY'))).toBeUndefined();
    expect(storeFault(new Error('a bug'))).toBeUndefined();
    expect(storeFault(new StoreUnavailableError('io', 'x'))).toBe('io');
  });
});
