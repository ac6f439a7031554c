// The one ingest function: validate, dedupe by (node, seq), and group concurrent messages into one transaction.
import type { Store } from '../store/types.js';
import { validateMessage } from './validate.js';
import type { IngestMessage, IngestResult, Ingestor } from './types.js';

export interface IngestorOptions {
  /** Most messages per transaction. */
  maxBatchMessages?: number;
  /** Most findings per transaction (a batch always takes at least one message). */
  maxBatchFindings?: number;
  /** Called after each applied or duplicate message (metrics, correlation cache). */
  onResult?: (message: IngestMessage, result: IngestResult, ms: number) => void;
  /** The collector clock (node last-report times); Date.now by default. */
  now?: () => number;
  /** Called when a message fails validation (the caller gets the IngestValidationError). */
  onInvalid?: (input: unknown, err: unknown) => void;
  /** Called when a transaction fails (before each message is retried alone). */
  onError?: (err: unknown, messages: number) => void;
}

interface Pending {
  message: IngestMessage;
  resolve(result: IngestResult): void;
  reject(err: unknown): void;
}

const findingCount = (m: IngestMessage): number => (m.kind === 'full' ? m.report.findings.length : m.upserts.length + m.resolved.length);

export class BatchingIngestor implements Ingestor {
  private readonly queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  private readonly maxMessages: number;
  private readonly maxFindings: number;

  constructor(private readonly store: Store, private readonly opts: IngestorOptions = {}) {
    this.maxMessages = opts.maxBatchMessages ?? 256;
    this.maxFindings = opts.maxBatchFindings ?? 50_000;
  }

  /** Validates (throws IngestValidationError) before anything is queued, so bad input never reaches the store. */
  ingest(input: IngestMessage): Promise<IngestResult> {
    let message: IngestMessage;
    try {
      message = validateMessage(input);
    } catch (err) {
      this.opts.onInvalid?.(input, err);
      return Promise.reject(err);
    }
    return this.enqueue(message);
  }

  /** For callers that already validated (the HTTP route validates the posted document itself). */
  enqueue(message: IngestMessage): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.startDrain();
    });
  }

  private startDrain(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.queue.length > 0) this.startDrain();
    });
  }

  lastSeq(node: string): Promise<number | undefined> {
    return this.store.lastSeq(node);
  }

  /** Resolves when everything queued so far is stored. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private takeBatch(): Pending[] {
    let findings = 0;
    let n = 0;
    while (n < this.queue.length && n < this.maxMessages) {
      const next = findingCount(this.queue[n].message);
      if (n > 0 && findings + next > this.maxFindings) break;
      findings += next;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async drain(): Promise<void> {
    // Let messages that arrive in the same tick join this transaction.
    await new Promise((r) => setImmediate(r));
    while (this.queue.length > 0) await this.write(this.takeBatch());
  }

  private async write(batch: Pending[]): Promise<void> {
    const started = performance.now();
    try {
      const results = await this.store.applyBatch(batch.map((p) => p.message), (this.opts.now ?? Date.now)());
      const ms = performance.now() - started;
      batch.forEach((p, i) => { this.opts.onResult?.(p.message, results[i], ms); p.resolve(results[i]); });
    } catch (err) {
      if (batch.length === 1) { this.opts.onError?.(err, 1); batch[0].reject(err); return; }
      // One bad message must not fail its neighbours: retry each alone.
      this.opts.onError?.(err, batch.length);
      for (const p of batch) await this.write([p]);
    }
  }
}
