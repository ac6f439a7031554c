// Collector replicas sharing one PostgreSQL (the HA deployment): a dashboard connected to one replica hears the changes
// stored by another (LISTEN/NOTIFY), so its live view does not depend on which replica an agent reached.
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CollectorOptions } from '../../../collector/app/options.js';
import { startCollector, type RunningCollector } from '../../../collector/app/start.js';
import { describeWithDaemons } from '../../harness/integration.js';
import { postgresBinaries, startPostgres, type PostgresServer } from '../../harness/postgres.js';
import { finding, report } from '../../unit/collector/helpers.js';

describeWithDaemons('live feed across collector replicas (real PostgreSQL)', postgresBinaries, () => {
  let server: PostgresServer;
  const replicas: RunningCollector[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.createDatabase('replicas');
    const options: CollectorOptions = {
      databaseUrl: url, http: { host: '127.0.0.1', port: 0 }, retentionMs: 30 * 86_400_000, reportIntervalMs: 60_000,
      maxReportBytes: 1024 * 1024, correlateIntervalMs: 0, logLevel: 'silent', sqliteSynchronous: 'NORMAL',
    };
    for (let i = 0; i < 2; i++) replicas.push(await startCollector(options, { log: pino({ level: 'silent' }) }));
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) await r.close();
    await server?.stop();
  });

  it('pushes a change stored through replica B to a stream open on replica A', async () => {
    const [a, b] = replicas;
    const ctrl = new AbortController();
    const res = await fetch(`${a.httpUrl}/api/v1/events`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    // One read at a time: a read that outlives a wait is picked up by the next wait, so no chunk is lost.
    let reading: ReturnType<typeof reader.read> | undefined;
    const until = async (pattern: RegExp): Promise<RegExpExecArray> => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const m = pattern.exec(text);
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${text}`);
        reading ??= reader.read();
        const next = await Promise.race([reading, new Promise<undefined>((r) => { setTimeout(() => r(undefined), 200); })]);
        if (next) {
          reading = undefined;
          if (!next.done) text += next.value;
        }
      }
    };
    try {
      await until(/event: hello/);
      // Give A's LISTEN connection a moment to be established before B commits.
      await new Promise((r) => setTimeout(r, 300));
      const posted = await fetch(`${b.httpUrl}/api/v1/reports`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(report('worker-9', [finding({ checkId: 'cis-4.2.1', status: 'fail', severity: 'high', value: true })], { scannedAt: new Date() })),
      });
      expect(posted.status).toBe(200);
      const [, data] = await until(/event: change\ndata: (.*)\n/);
      expect(JSON.parse(data)).toEqual({ at: expect.any(String), nodes: ['worker-9'], opened: 1, changed: 0, resolved: 0 });
    } finally {
      ctrl.abort();
    }
  });
});
