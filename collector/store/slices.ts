// Long synchronous work in slices: a 150,000-finding report is validated, planned and written a slice at a time,
// giving the event loop a turn between slices, so /healthz and the other requests keep being answered.

/** How long one slice may hold the event loop. */
const SLICE_MS = 10;

export class TimeSlicer {
  private since = performance.now();

  constructor(private readonly ms = SLICE_MS) {}

  /** True once the current slice is used up: the caller then awaits next(). */
  get due(): boolean {
    return performance.now() - this.since >= this.ms;
  }

  /** Gives the event loop a turn (timers, I/O), then starts a new slice. */
  async next(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

/** Work written as a generator that yields where it may be interrupted, returning its result. */
export type Steps<T> = Generator<void, T>;

/** Runs the steps to the end without interruption (small work, or inside a synchronous transaction). */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs the steps, giving the event loop a turn whenever a slice is used up. */
export async function runStepsSliced<T>(steps: Steps<T>, slicer: TimeSlicer): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (slicer.due) await slicer.next();
  }
}
