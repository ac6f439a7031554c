// The live feed: the collector's server-sent events (GET /api/v1/events, API.md) read through fetch, because
// EventSource cannot send the bearer token. Every event means "something changed": the views on screen reload.
// A collector without the feed is polled instead (its summary, every POLL_MS), and the header says which.
import { AuthRequired, get, hasRoute, headers } from './api.js';

export type LiveState = 'connecting' | 'live' | 'polling' | 'offline' | 'off';

const POLL_MS = 10_000;
const DEBOUNCE_MS = 150;
const MAX_RETRY_MS = 30_000;

type Listener = () => void;
const changeListeners = new Set<Listener>();
const stateListeners = new Set<(s: LiveState) => void>();
let state: LiveState = 'off';
let debounce: ReturnType<typeof setTimeout> | undefined;

export function onChange(listener: Listener): () => void {
  changeListeners.add(listener);
  return () => changeListeners.delete(listener);
}

export function onLiveState(listener: (s: LiveState) => void): () => void {
  stateListeners.add(listener);
  listener(state);
  return () => stateListeners.delete(listener);
}

function setState(next: LiveState): void {
  if (next === state) return;
  state = next;
  for (const l of stateListeners) l(next);
}

/** Tells every view to reload, coalescing a burst of events into one reload. */
export function announceChange(): void {
  clearTimeout(debounce);
  debounce = setTimeout(() => { for (const l of changeListeners) l(); }, DEBOUNCE_MS);
}

interface ServerEvent { event: string; data: string; id?: string; retry?: number }

/** Splits a text/event-stream into events (the WHATWG rules: `field: value` lines, a blank line ends an event). */
class EventStreamParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private retry: number | undefined;

  push(chunk: string, emit: (e: ServerEvent) => void): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (this.data.length) emit({ event: this.event || 'message', data: this.data.join('\n'), id: this.id, retry: this.retry });
        this.event = '';
        this.data = [];
        this.retry = undefined;
        continue;
      }
      if (line.startsWith(':')) continue; // a comment: keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id') this.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    }
  }
}

let stopCurrent: (() => void) | undefined;

/** Starts (or restarts, after a new token) the feed. */
export function startLive(): void {
  stopCurrent?.();
  const ctrl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  stopCurrent = () => { ctrl.abort(); clearTimeout(timer); };
  setState('connecting');

  const sleep = (ms: number): Promise<void> => new Promise((r) => { timer = setTimeout(r, ms); });

  void (async () => {
    let feed: boolean;
    try {
      feed = await hasRoute('/api/v1/events');
    } catch {
      feed = false;
    }
    let retryMs = 2000;
    let lastSummary = '';
    let connectedBefore = false;
    while (!ctrl.signal.aborted) {
      try {
        if (feed) {
          await readFeed(ctrl.signal, (ms) => { retryMs = ms; }, connectedBefore, () => { connectedBefore = true; });
          // The server ended the stream (restart, proxy timeout): reconnect, and reload what may have been missed.
        } else {
          const summary = await get<{ nodes: unknown; findings: unknown; correlations: unknown }>('/api/v1/summary', {}, undefined, ctrl.signal);
          const fingerprint = JSON.stringify([summary.nodes, summary.findings, summary.correlations]);
          if (lastSummary && fingerprint !== lastSummary) announceChange();
          lastSummary = fingerprint;
          setState('polling');
          await sleep(POLL_MS);
          continue;
        }
      } catch (err) {
        if (ctrl.signal.aborted) return;
        if (err instanceof AuthRequired) { setState('off'); return; }
        setState('offline');
      }
      await sleep(retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  })();
}

async function readFeed(signal: AbortSignal, setRetry: (ms: number) => void, reconnect: boolean, connected: () => void): Promise<void> {
  const res = await fetch('api/v1/events', { headers: headers({ accept: 'text/event-stream' }), signal, cache: 'no-store' });
  if (res.status === 401 || res.status === 403) throw new AuthRequired(res.status, 'the live feed wants a token');
  if (!res.ok || !res.body) throw new Error(`live feed answered ${res.status}`);
  setState('live');
  setRetry(2000);
  // After a reconnection, whatever happened while we were not connected. (On the first connection the views are
  // loading at the same moment: reloading them would only load everything twice.)
  if (reconnect) announceChange();
  connected();
  const parser = new EventStreamParser();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.push(value, (e) => {
      if (e.retry) setRetry(e.retry);
      if (e.event !== 'hello') announceChange();
    });
  }
  setState('connecting');
}
