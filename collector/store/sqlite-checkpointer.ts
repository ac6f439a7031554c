// Copies the write-ahead log back into the database file on a thread of its own. SQLite's automatic checkpoint runs
// inside the COMMIT that crosses its threshold, on the caller's thread: after a large report that is a few hundred
// milliseconds of copying and fsync with the event loop stopped. Here the writer's automatic checkpoint is off and a
// worker with its own connection runs PASSIVE checkpoints (they never wait for readers or the writer) when the log
// has grown.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Checkpoint once the log is this large: SQLite's default is 1,000 pages, 16 MiB at our page size. */
const CHECKPOINT_ABOVE = 16 * 1024 * 1024;

// CommonJS, evaluated in the worker: better-sqlite3 is a native module and needs no build step this way.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, busy: result.busy, log: result.log, checkpointed: result.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, message: err.message, code: err.code });
  }
});
`;

type CheckpointResult = { ok: true; busy: number; log: number; checkpointed: number } | { ok: false; message: string; code?: string };

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private running = false;
  private closed = false;

  /** `onError`: a checkpoint failed (a full disk, an I/O error): the store counts it as a failed write. */
  constructor(private readonly file: string, private readonly onError: (err: Error & { code?: string }) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file } });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('error', (err) => onError(err));
    this.worker.on('message', (result: CheckpointResult) => {
      this.running = false;
      if (!result.ok) this.onError(Object.assign(new Error(`checkpoint failed: ${result.message}`), { code: result.code }));
    });
  }

  /** After a commit: starts a checkpoint when the log has grown past the threshold and none is running. */
  afterCommit(): void {
    if (this.running || this.closed) return;
    let size = 0;
    try { size = statSync(`${this.file}-wal`).size; } catch { return; }
    if (size < CHECKPOINT_ABOVE) return;
    this.running = true;
    this.worker.postMessage('checkpoint');
  }

  /** Closes the worker's connection (before the store's own, so the last close is the writer's). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Unreferenced while running (it must not keep the process alive); referenced while it closes, so it can.
    this.worker.ref();
    this.worker.postMessage('close');
    await this.exited;
  }
}
