// A full report against the previous one → the delta by finding id: added, changed (any field differs),
// resolved (gone from the report). Applying the delta to the previous report's findings gives the current ones.
import type { Finding, NodeReport } from '../../proto/report.js';
import type { Delta } from '../../proto/wire.js';

/** JSON with object keys sorted, so two findings built in a different key order compare equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v as object).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

export function diffFindings(previous: readonly Finding[], current: readonly Finding[], scannedAt: string): Delta {
  const before = new Map(previous.map((f) => [f.id, f]));
  const delta: Delta = { scannedAt, added: [], changed: [], resolved: [] };
  const seen = new Set<string>();
  for (const f of current) {
    if (seen.has(f.id)) continue; // a duplicate id in one report: the first one wins, as in a map
    seen.add(f.id);
    const old = before.get(f.id);
    if (!old) delta.added.push(f);
    else if (stableJson(old) !== stableJson(f)) delta.changed.push(f);
  }
  for (const id of before.keys()) if (!seen.has(id)) delta.resolved.push(id);
  return delta;
}

export function diffReports(previous: NodeReport | undefined, current: NodeReport): Delta {
  return diffFindings(previous?.findings ?? [], current.findings, current.scannedAt);
}

export function isEmptyDelta(d: Delta): boolean {
  return d.added.length === 0 && d.changed.length === 0 && d.resolved.length === 0;
}

/** The findings after applying a delta (order: surviving previous findings, then added). */
export function applyDelta(previous: readonly Finding[], delta: Delta): Finding[] {
  const byId = new Map(previous.map((f) => [f.id, f]));
  for (const id of delta.resolved) byId.delete(id);
  for (const f of [...delta.changed, ...delta.added]) byId.set(f.id, f);
  return [...byId.values()];
}
