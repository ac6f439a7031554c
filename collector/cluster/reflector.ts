// List, then watch from the list's resourceVersion, for one collection — client-node's Watch for the stream,
// its typed list call (paged) for the list, the model for the state. Not client-node 1.4's ListWatch: that one
// stops for good on any error but 410 (a restarted start() resumes a watch without re-listing, and a second
// chain can run beside the first), and re-watches without any delay when a watch ends at once. Here:
//  - 410 Gone (as the watch's HTTP status or an ERROR event) re-lists; objects missing from the new list are gone;
//  - any other failure (list or watch, network or status) retries with exponential backoff and jitter;
//  - a watch asks for bookmarks and a server-side timeout, and is abandoned when it outlives that timeout;
//  - 403 and 404 mark the kind forbidden / not served, so the checks that read it say why they cannot judge.
import type { Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../../common/backoff.js';
import { isRecord } from '../../common/json.js';
import type { ClusterModel } from './model.js';
import { convert, type ResourceKind } from './objects.js';
import type { WatchedResource } from './resources.js';

export interface ReflectorOptions {
  /** Server-side watch timeout (the server ends the watch cleanly; the reflector resumes from the last resourceVersion). */
  watchTimeoutSeconds?: number;
  /** Items per list page. */
  pageSize?: number;
  backoff?: { baseMs?: number; maxMs?: number };
  /** Delay before asking again for a kind the API does not serve (404). */
  unavailableRetryMs?: number;
}

interface WatchOutcome {
  events: number;
  expired: boolean;
  err?: unknown;
  ms: number;
}

/** An HTTP status from a list (ApiException.code), a watch (error.statusCode) or an ERROR event (Status.code). */
function statusOf(err: unknown): number | undefined {
  if (!isRecord(err) && !(err instanceof Error)) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  return typeof e.code === 'number' ? e.code : undefined;
}

/** What a failure says, without the response body (which can be large) or anything from the request. */
const describe = (err: unknown): string => {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message.split('\n')[0].slice(0, 200) : String(err).slice(0, 200);
  return status ? `HTTP ${status}: ${message}` : message;
};

class WatchEventError extends Error {
  constructor(readonly statusCode: number | undefined, message: string) {
    super(message);
    this.name = 'WatchEventError';
  }
}

export class Reflector {
  private stopped = false;
  private readonly stopSignal = new AbortController();
  private controller: AbortController | undefined;
  private running: Promise<void> | undefined;
  private relist = true;
  private lastProblem = '';
  private readonly kind: ResourceKind;

  constructor(
    private readonly resource: WatchedResource,
    private readonly model: ClusterModel,
    private readonly watch: Watch,
    private readonly log: Logger,
    private readonly opts: ReflectorOptions = {},
  ) {
    this.kind = resource.kind;
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    this.controller?.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ baseMs: this.opts.backoff?.baseMs ?? 500, maxMs: this.opts.backoff?.maxMs ?? 60_000 });
    while (!this.stopped) {
      try {
        if (this.relist || !this.model.resourceVersion(this.kind)) await this.list();
        if (this.stopped) break;
        const outcome = await this.watchOnce();
        if (outcome.expired) {
          this.log.info({ kind: this.kind }, 'watch expired (410): listing again');
          this.relist = true;
          continue;
        }
        if (outcome.err !== undefined) throw outcome.err;
        this.recovered();
        // A server that ends every watch at once would otherwise be asked again in a tight loop.
        if (outcome.events === 0 && outcome.ms < 1_000) await sleep(backoff.next(), this.stopSignal.signal);
        else backoff.reset();
      } catch (err) {
        if (this.stopped) break;
        await sleep(this.failed(err, backoff), this.stopSignal.signal);
      }
    }
  }

  /** Records a failure on the model (once per distinct problem in the log); returns how long to wait. */
  private failed(err: unknown, backoff: Backoff): number {
    const status = statusOf(err);
    if (status === 410) {
      this.relist = true;
      return 0;
    }
    const detail = describe(err);
    const kindStatus = status === 403 || status === 401 ? 'forbidden' : status === 404 ? 'unavailable' : 'failing';
    this.model.setStatus(this.kind, kindStatus, detail);
    if (detail !== this.lastProblem) {
      this.lastProblem = detail;
      const fields = { kind: this.kind, path: this.resource.path, status: kindStatus, err: detail };
      if (kindStatus === 'unavailable') this.log.info(fields, 'the API server does not serve this kind; checks treat it as empty');
      else this.log.warn(fields, 'cannot read the Kubernetes API; retrying with backoff');
    }
    const delay = backoff.next();
    return kindStatus === 'unavailable' ? Math.max(delay, this.opts.unavailableRetryMs ?? 300_000) : delay;
  }

  private recovered(): void {
    if (this.lastProblem) this.log.info({ kind: this.kind }, 'reading the Kubernetes API again');
    this.lastProblem = '';
    this.model.markSynced(this.kind);
  }

  private async list(): Promise<void> {
    const items = [];
    let skipped = 0;
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.resource.list({ limit: this.opts.pageSize ?? 500, ...(cont ? { _continue: cont } : {}) });
      for (const raw of page.items ?? []) {
        const c = convert(this.kind, raw);
        if (c.ok) items.push(c.object);
        else if (skipped++ === 0) this.log.warn({ kind: this.kind, reason: c.reason }, 'skipped an object the collector cannot read');
      }
      cont = page.metadata?._continue || page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? '';
    } while (cont && !this.stopped);
    if (this.stopped) return;
    this.model.replace(this.kind, items as never[], resourceVersion);
    this.relist = false;
    this.log.debug({ kind: this.kind, items: items.length, resourceVersion }, 'listed');
  }

  private onEvent(type: string, obj: unknown, outcome: WatchOutcome): void {
    outcome.events++;
    const meta = isRecord(obj) && isRecord(obj.metadata) ? obj.metadata : {};
    const rv = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        const c = convert(this.kind, obj);
        if (c.ok) this.model.upsert(this.kind, c.object);
        else {
          this.model.setResourceVersion(this.kind, rv);
          this.log.warn({ kind: this.kind, reason: c.reason }, 'skipped an object the collector cannot read');
        }
        break;
      }
      case 'DELETED':
        if (typeof meta.name === 'string') {
          this.model.remove(this.kind, { name: meta.name, namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined, resourceVersion: rv });
        }
        break;
      case 'BOOKMARK':
        this.model.setResourceVersion(this.kind, rv);
        break;
      case 'ERROR': {
        const status = isRecord(obj) && typeof obj.code === 'number' ? obj.code : undefined;
        if (status === 410) outcome.expired = true;
        else outcome.err = new WatchEventError(status, isRecord(obj) && typeof obj.message === 'string' ? obj.message : 'watch error event');
        break;
      }
      default:
        break;
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300;
    const started = performance.now();
    const outcome: WatchOutcome = { events: 0, expired: false, ms: 0 };
    return new Promise<WatchOutcome>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = (err?: unknown): void => {
        finished = true;
        clearTimeout(timer);
        this.stopSignal.signal.removeEventListener('abort', onStop);
        if (err !== undefined && err !== null && outcome.err === undefined && !this.stopped) outcome.err = err;
        outcome.ms = performance.now() - started;
        resolve(outcome);
      };
      // A watch still connecting when the collector stops is abandoned (its controller is aborted once known).
      const onStop = (): void => finish();
      this.stopSignal.signal.addEventListener('abort', onStop, { once: true });
      // Past the server's own timeout, the connection is dead (no FIN ever came): drop it and watch again.
      timer = setTimeout(() => { finish(); this.controller?.abort(); }, (timeoutSeconds + 30) * 1000);
      this.watch.watch(
        this.resource.path,
        { resourceVersion: this.model.resourceVersion(this.kind), allowWatchBookmarks: true, timeoutSeconds },
        (type: string, obj: unknown) => this.onEvent(type, obj, outcome),
        (err: unknown) => finish(err),
      ).then((controller) => {
        this.controller = controller;
        if (this.stopped) controller.abort();
        // Resolved before done was called: the server answered 200 and the stream is open.
        else if (!finished) this.recovered();
      }, (err: unknown) => finish(err));
    });
  }
}
