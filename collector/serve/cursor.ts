// Opaque page cursors: the sort and the last item's sort key, base64url JSON, checked on the way back in.
import { isRecord } from '../../common/json.js';
import { SORT_KEYS } from '../store/sql.js';
import type { ChangeKey, FindingSort, HistoryKey } from '../store/types.js';
import { BadParameter, NOT_A_CURSOR } from './params.js';

export function encodeCursor(sort: string, key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify({ s: sort, k: key })).toString('base64url');
}

function decode(raw: string): { s: unknown; k: unknown } {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (isRecord(v)) return { s: v.s, k: v.k };
  } catch { /* reported below */ }
  throw new BadParameter('cursor', NOT_A_CURSOR);
}

export function decodeFindingsCursor(raw: string, sort: FindingSort): unknown[] {
  const { s, k } = decode(raw);
  if (s !== sort) throw new BadParameter('cursor', `was made for sort=${String(s)}, not sort=${sort}`);
  const types = SORT_KEYS[sort].types;
  const ok = Array.isArray(k) && k.length === types.length && k.every((v, i) =>
    (types[i] === 'number' ? Number.isSafeInteger(v) : typeof v === 'string' && v.length <= 512));
  if (!ok) throw new BadParameter('cursor', NOT_A_CURSOR);
  return k;
}

export function decodeNodesCursor(raw: string): string {
  const { s, k } = decode(raw);
  if (s !== 'name' || !Array.isArray(k) || k.length !== 1 || typeof k[0] !== 'string') {
    throw new BadParameter('cursor', NOT_A_CURSOR);
  }
  return k[0];
}

const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length <= 2048;

/** The change feed's key: (at, node, finding id, event id). */
export function decodeChangesCursor(raw: string): ChangeKey {
  const { s, k } = decode(raw);
  if (s === 'changes' && Array.isArray(k) && k.length === 4 && isTime(k[0]) && isId(k[1]) && isId(k[2]) && isTime(k[3])) {
    return [k[0], k[1], k[2], k[3]];
  }
  throw new BadParameter('cursor', NOT_A_CURSOR);
}

/** A node history's key: (last activity, finding id). */
export function decodeHistoryCursor(raw: string): HistoryKey {
  const { s, k } = decode(raw);
  if (s === 'history' && Array.isArray(k) && k.length === 2 && isTime(k[0]) && isId(k[1])) return [k[0], k[1]];
  throw new BadParameter('cursor', NOT_A_CURSOR);
}
