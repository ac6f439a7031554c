// Hash routing (`#/findings?status=fail`): any server path serves the one page, and a view with its filter is a
// link that can be shared.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Path segments after `#/`, decoded: `#/nodes/worker-2` → ['nodes', 'worker-2']. */
  parts: string[];
  params: URLSearchParams;
}

function parseHash(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const path = q < 0 ? body : body.slice(0, q);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  return { parts, params: new URLSearchParams(q < 0 ? '' : body.slice(q + 1)) };
}

export function href(path: string, params?: URLSearchParams | Record<string, string | undefined>): string {
  const q = params instanceof URLSearchParams ? params : new URLSearchParams(
    Object.entries(params ?? {}).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export const nodeHref = (name: string, anchor?: string): string =>
  `#/nodes/${encodeURIComponent(name)}${anchor ? `?finding=${encodeURIComponent(anchor)}` : ''}`;

/** Replaces the current entry (a filter change is not a step back). */
export function replaceHash(next: string): void {
  if (location.hash === next) return;
  history.replaceState(history.state, '', next);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = (): void => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseHash(hash);
}
