// Loading data for a view: loading / ok / error states, reloaded when the live feed says something changed.
// A reload keeps what is on screen until the new answer arrives (no flicker); a failed reload keeps it too.
// A change announced while a load is under way does not cancel it (on a busy cluster changes keep coming, and a
// view that restarts on each would never finish): the view loads once more when it is done.
import { useEffect, useRef, useState } from 'preact/hooks';
import { onChange } from './live.js';

export type Loadable<T> =
  | { state: 'loading'; data?: undefined; error?: undefined }
  | { state: 'ok'; data: T; error?: undefined }
  | { state: 'error'; error: Error; data?: undefined };

const LOADING = { state: 'loading' } as const;

/** `key` names what is loaded (JSON-serialisable); a new key starts from loading, a live change reloads it. */
export function useData<T>(load: (signal: AbortSignal) => Promise<T>, key: unknown[], opts: { live?: boolean } = {}): Loadable<T> {
  const k = JSON.stringify(key);
  const [held, setHeld] = useState<{ key: string; value: Loadable<T> }>({ key: k, value: LOADING });
  const [tick, setTick] = useState(0);
  const loading = useRef(false);
  const stale = useRef(false);
  const live = opts.live ?? true;

  useEffect(() => (live ? onChange(() => {
    if (loading.current) stale.current = true;
    else setTick((t) => t + 1);
  }) : undefined), [live]);

  useEffect(() => {
    const ctrl = new AbortController();
    loading.current = true;
    stale.current = false;
    load(ctrl.signal).then(
      (data) => { if (!ctrl.signal.aborted) setHeld({ key: k, value: { state: 'ok', data } }); },
      (error: Error) => {
        if (ctrl.signal.aborted || error.name === 'AbortError') return;
        setHeld((h) => (h.key === k && h.value.state === 'ok' ? h : { key: k, value: { state: 'error', error } }));
      },
    ).finally(() => {
      if (ctrl.signal.aborted) return; // replaced by a load for another key, or the view is gone
      loading.current = false;
      if (stale.current) {
        stale.current = false;
        setTick((t) => t + 1);
      }
    });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [k, tick]);

  return held.key === k ? held.value : LOADING;
}
