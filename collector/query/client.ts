// A small REST client for `vigil-collector query`: GET with a bearer token, JSON back, errors as messages.
import { isRecord, stringOf } from '../../common/json.js';

export interface QueryTarget {
  url: string;
  token?: string;
}

export class QueryError extends Error {}

export async function getJson(target: QueryTarget, path: string, params: Record<string, string | undefined> = {}): Promise<unknown> {
  const url = new URL(path, target.url.endsWith('/') ? target.url : `${target.url}/`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, { headers: target.token ? { authorization: `Bearer ${target.token}` } : {} });
  } catch (err) {
    throw new QueryError(`cannot reach ${url.origin}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try { body = JSON.parse(text); } catch { body = text; }
  if (!res.ok) {
    const message = isRecord(body) && body.message !== undefined ? String(body.message) : text.slice(0, 200);
    throw new QueryError(`${res.status} ${res.statusText}: ${message}`);
  }
  return body;
}

/** Follows nextCursor until `max` items (for `--all`). */
export async function getAllPages(target: QueryTarget, path: string, params: Record<string, string | undefined>, max: number): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await getJson(target, path, { ...params, cursor });
    if (!isRecord(page) || !Array.isArray(page.items)) throw new QueryError(`${path}: the answer is not a page of items`);
    items.push(...page.items);
    cursor = stringOf(page.nextCursor);
  } while (cursor && items.length < max);
  return items.slice(0, max);
}
