// GET /api/v1/events: the live feed the dashboard listens to, read here as the page reads it (fetch, bearer token).
import { afterEach, describe, expect, it } from 'vitest';
import { finding, report } from './helpers.js';
import { READ, REPORT, startTestCollector, type TestCollector } from './collector-harness.js';

interface ServerEvent { event: string; id?: string; retry?: number; data: any }

/** An open stream: the events so far (comments counted apart), and a way to wait for the next one that matches. */
async function openStream(c: TestCollector, token = READ) {
  const ctrl = new AbortController();
  const res = await fetch(`${c.httpUrl}/api/v1/events`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: ctrl.signal });
  const events: ServerEvent[] = [];
  let comments = 0;
  let buffer = '';
  let ended = false;
  const waiting = new Set<() => void>();
  const pump = (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) { comments++; continue; }
          const e: ServerEvent = { event: 'message', data: undefined };
          for (const line of block.split('\n')) {
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'event') e.event = value;
            else if (field === 'id') e.id = value;
            else if (field === 'retry') e.retry = Number(value);
            else if (field === 'data') e.data = JSON.parse(value);
          }
          events.push(e);
        }
        for (const w of waiting) w();
      }
    } catch { /* aborted */ }
    ended = true;
    for (const w of waiting) w();
  })();
  const until = async <T>(check: () => T | undefined, timeoutMs = 3000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out; events so far: ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => { const w = () => { waiting.delete(w); resolve(); }; waiting.add(w); setTimeout(w, 50); });
    }
  };
  return {
    res,
    events,
    comments: () => comments,
    ended: () => ended,
    next: (event: string, after = 0, timeoutMs?: number) => until(() => events.slice(after).find((e) => e.event === event), timeoutMs),
    waitEnd: () => until(() => (ended ? true : undefined)),
    close: async () => { ctrl.abort(); await pump; },
  };
}

const anon = (node: string, v: boolean) => report(node, [finding({ checkId: 'cis-4.2.1', cis: '4.2.1', severity: 'high', value: v, status: v ? 'fail' : 'pass' })],
  { roles: ['worker'], scannedAt: new Date() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GET /api/v1/events', () => {
  let c: TestCollector;
  const streams: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const s of streams.splice(0)) await s.close();
    await c?.stop();
  });
  const open = async (token?: string) => { const s = await openStream(c, token); streams.push(s); return s; };

  it('needs the read role, then greets with retry and hello; a stream of its own type that caches nothing', async () => {
    c = await startTestCollector();
    expect((await fetch(`${c.httpUrl}/api/v1/events`)).status).toBe(401);
    expect((await fetch(`${c.httpUrl}/api/v1/events`, { headers: { authorization: `Bearer ${REPORT}` } })).status).toBe(403);
    expect((await fetch(`${c.httpUrl}/api/v1/events?x=1`, { headers: { authorization: `Bearer ${READ}` } })).status).toBe(400);
    const s = await open();
    expect(s.res.status).toBe(200);
    expect(s.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(s.res.headers.get('cache-control')).toBe('no-store');
    const hello = await s.next('hello');
    expect(hello).toMatchObject({ retry: 2000, id: '1', data: { version: expect.any(String), at: expect.any(String) } });
  });

  it('announces a stored change with what changed, coalesced, and stays quiet for a report that changes nothing', async () => {
    c = await startTestCollector({}, { live: { coalesceMs: 1500 } });
    const s = await open();
    await s.next('hello');
    expect((await c.post('/api/v1/reports', anon('w-1', false))).status).toBe(200);
    const first = await s.next('change');
    const firstAt = performance.now();
    expect(first.data).toEqual({ at: expect.any(String), nodes: ['w-1'], opened: 1, changed: 0, resolved: 0 });
    // Two more within the window: one event at its end, with both.
    const seen = s.events.length;
    await c.post('/api/v1/reports', anon('w-2', true));
    await c.post('/api/v1/reports', anon('w-1', true));
    const second = await s.next('change', seen);
    expect(performance.now() - firstAt).toBeGreaterThan(1400);
    expect(second.data).toMatchObject({ opened: 1, changed: 1, resolved: 0 });
    expect(second.data.nodes.sort()).toEqual(['w-1', 'w-2']);
    expect(Number(second.id)).toBeGreaterThan(Number(first.id));
    // The same report again: stored, but nothing changed.
    const quiet = s.events.length;
    await c.post('/api/v1/reports', anon('w-1', true));
    await sleep(1700); // past the coalescing window: anything pending would have been sent
    expect(s.events.slice(quiet).filter((e) => e.event === 'change')).toEqual([]);
  });

  it('announces a new correlation result without anyone asking for it', async () => {
    c = await startTestCollector();
    for (const n of ['w-1', 'w-2', 'w-3']) await c.post('/api/v1/reports', anon(n, false));
    expect((await c.get('/api/v1/correlations')).body.items).toEqual([]);
    const s = await open();
    await s.next('hello');
    await c.post('/api/v1/reports', anon('w-2', true));
    c.clock.now += 1000; // the engine recomputes at most every few ms of its clock: let some pass
    const corr = await s.next('correlations');
    expect(corr.data).toEqual({ computedAt: expect.any(String), counts: { drift: 1, 'attack-path': 0, coverage: 0 } });
  });

  it('tells when a node turns silent and when it reports again', async () => {
    c = await startTestCollector({}, { live: { watchMs: 50 } });
    await c.post('/api/v1/reports', anon('w-1', false));
    await c.post('/api/v1/reports', anon('w-2', false));
    const s = await open();
    await s.next('hello');
    await sleep(150);
    c.clock.now += 3 * 60_000 + 1;
    await c.post('/api/v1/reports', anon('w-2', false)); // w-2 keeps reporting
    const silent = await s.next('node');
    expect(silent.data).toEqual({ name: 'w-1', status: 'silent' });
    const seen = s.events.length;
    await c.post('/api/v1/reports', anon('w-1', false));
    expect((await s.next('node', seen)).data).toEqual({ name: 'w-1', status: 'reporting' });
  });

  it('keeps the stream open with a comment, and refuses more streams than it allows', async () => {
    c = await startTestCollector({}, { live: { heartbeatMs: 50, maxClients: 2 } });
    const a = await open();
    await open();
    const refused = await fetch(`${c.httpUrl}/api/v1/events`, { headers: { authorization: `Bearer ${READ}` } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(((await refused.json()) as { message: string }).message).toMatch(/too many live streams/);
    await sleep(500);
    expect(a.comments()).toBeGreaterThanOrEqual(3);
    // A closed stream makes room.
    await streams.shift()!.close();
    await sleep(50);
    const b = await open();
    expect(b.res.status).toBe(200);
  });

  it('ends every stream when the collector stops, without delaying the stop', async () => {
    c = await startTestCollector();
    const a = await open();
    const b = await open();
    await a.next('hello');
    await b.next('hello');
    const started = performance.now();
    await c.close();
    expect(performance.now() - started).toBeLessThan(1000);
    await a.waitEnd();
    await b.waitEnd();
  });
});
