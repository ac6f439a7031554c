// Store failures an operator must act on — a full disk, a corrupt or unreadable database — told apart from bugs, so
// the collector answers 507/503 with the reason instead of a bare 500 and readiness says what is wrong.

export type StoreFault = 'disk-full' | 'corrupt' | 'io';

export class StoreUnavailableError extends Error {
  constructor(readonly fault: StoreFault, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

const SQLITE_CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;
const SQLITE_IO = /^SQLITE_(IOERR|CANTOPEN|READONLY)/;

/** What kind of fault an error from a driver is (SQLite result codes, PostgreSQL SQLSTATEs, errno), if any. */
export function storeFault(err: unknown): StoreFault | undefined {
  if (err instanceof StoreUnavailableError) return err.fault;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  // PostgreSQL: 53100 disk_full, 53000 insufficient_resources; XX001 data_corrupted, XX002 index_corrupted; 58030 io_error.
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || code === '53100') return 'disk-full';
  if (SQLITE_CORRUPT.test(code) || code === 'XX001' || code === 'XX002') return 'corrupt';
  if (SQLITE_IO.test(code) || code === 'EIO' || code === '58030') return 'io';
  return undefined;
}

const WHAT: Record<StoreFault, string> = {
  'disk-full': 'the disk holding the store is full',
  corrupt: 'the store is corrupt',
  io: 'the store cannot be read or written',
};

/** The error as a StoreUnavailableError when it is a store fault (with a message that says so), else as it was. */
function asStoreError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const fault = storeFault(err);
  if (!fault) return err;
  return new StoreUnavailableError(fault, `${WHAT[fault]}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * What a store remembers of its health between requests: the last write that failed for a store fault (cleared by
 * the next write that succeeds), and corruption seen by any query (which does not heal while the process runs).
 */
export class StoreHealth {
  private writeFault: StoreUnavailableError | undefined;
  private corrupt: StoreUnavailableError | undefined;

  /** Runs a write, remembering whether it failed for a store fault; the error thrown is classified. */
  async write<T>(work: () => Promise<T> | T): Promise<T> {
    try {
      const result = await work();
      this.writeFault = undefined;
      return result;
    } catch (err) {
      throw this.noteFailure(err, true);
    }
  }

  /** Runs a read; corruption it meets is remembered. */
  async read<T>(work: () => Promise<T> | T): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.noteFailure(err, false);
    }
  }

  /** Records a failure seen outside write()/read() (a background checkpoint); returns the classified error. */
  noteFailure(err: unknown, writing: boolean): unknown {
    const classified = asStoreError(err);
    if (classified instanceof StoreUnavailableError) {
      if (classified.fault === 'corrupt') this.corrupt ??= classified;
      else if (writing) this.writeFault = classified;
    }
    return classified;
  }

  /** The fault that makes the store not ready, if any. */
  get fault(): StoreUnavailableError | undefined {
    return this.corrupt ?? this.writeFault;
  }

  /** Whether readiness must try a write before it says ready (the last write failed). */
  get writeFailing(): boolean {
    return this.writeFault !== undefined;
  }

  /** A probe write succeeded: writes work again. */
  writesWork(): void {
    this.writeFault = undefined;
  }
}
