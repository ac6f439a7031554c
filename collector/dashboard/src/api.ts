// The collector's REST API as the dashboard uses it: relative URLs (so a path prefix in front of the collector
// works), the read token from sessionStorage as a bearer token, and the routes the collector really serves,
// learnt once from its OpenAPI document so the page never asks for a route that is not there.

const TOKEN_KEY = 'vigil.token';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly parameter?: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The collector wants a (different) token: the page asks for one. */
export class AuthRequired extends ApiError {
  constructor(status: 401 | 403, message: string) {
    super(status, message);
    this.name = 'AuthRequired';
  }
}

/** This collector does not serve the route (an older version): the panel says so instead of failing. */
export class NotAvailable extends Error {
  constructor(readonly path: string) {
    super(`this collector does not serve ${path} yet`);
    this.name = 'NotAvailable';
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

type AuthListener = (err: AuthRequired) => void;
const authListeners = new Set<AuthListener>();
/** Called whenever a request is refused for want of a token. */
export function onAuthRequired(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export function headers(extra: Record<string, string> = {}): Record<string, string> {
  const t = token.get();
  return { accept: 'application/json', ...extra, ...(t ? { authorization: `Bearer ${t}` } : {}) };
}

let routes: Promise<Set<string>> | undefined;

/** The collector's route templates (`/api/v1/nodes/{name}`), from its OpenAPI document (served without a token). */
function availableRoutes(): Promise<Set<string>> {
  routes ??= fetch('api/v1/openapi.json', { headers: { accept: 'application/json' } })
    .then(async (res) => {
      if (!res.ok) throw new ApiError(res.status, `the collector's API description answered ${res.status}`);
      const doc = (await res.json()) as { paths?: Record<string, unknown> };
      return new Set(Object.keys(doc.paths ?? {}));
    })
    .catch((err: unknown) => {
      routes = undefined; // try again on the next request
      throw err;
    });
  return routes;
}

export async function hasRoute(template: string): Promise<boolean> {
  return (await availableRoutes()).has(template);
}

type Params = Record<string, string | number | undefined | null>;

function query(params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * GET one API route. `template` is the route as the OpenAPI document names it; `path` the concrete path when it
 * has parameters. Rejects with NotAvailable (route not served), AuthRequired, or ApiError (its message).
 */
export async function get<T>(template: string, params: Params = {}, path = template, signal?: AbortSignal): Promise<T> {
  if (!(await hasRoute(template))) throw new NotAvailable(template);
  const res = await fetch(`${path.replace(/^\//, '')}${query(params)}`, { headers: headers(), signal });
  if (res.ok) return (await res.json()) as T;
  let body: { message?: string; parameter?: string } = {};
  try { body = (await res.json()) as typeof body; } catch { /* not JSON: the status says enough */ }
  const message = body.message ?? `${res.status} ${res.statusText}`;
  if (res.status === 401 || res.status === 403) {
    const err = new AuthRequired(res.status, message);
    for (const l of authListeners) l(err);
    throw err;
  }
  throw new ApiError(res.status, message, body.parameter);
}

export const enc = encodeURIComponent;
