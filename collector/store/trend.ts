// The trend: the cluster's open findings sampled into hourly points (GET /api/v1/trend), kept 30 days at most.
import { emptySeverityCounts, emptySummary } from './rows.js';
import type { OpenCount, TrendSample } from './types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** 30 days of hourly points: 720 at most. */
export const TREND_KEEP_MS = 30 * DAY_MS;

export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** A sample for the hour containing `at`, from the open-finding counts (Store.openCounts). */
export function trendSampleOf(counts: readonly OpenCount[], at: number): TrendSample {
  const sample: TrendSample = { at: hourOf(at), failing: emptySeverityCounts(), open: emptySummary() };
  for (const c of counts) {
    const n = Number(c.n);
    sample.open[c.status] += n;
    if (c.status === 'fail') sample.failing[c.severity] += n;
  }
  return sample;
}

/** The last point of each UTC day, in time order (`step=1d`). */
export function lastOfEachDay(points: readonly TrendSample[]): TrendSample[] {
  const byDay = new Map<number, TrendSample>();
  for (const p of points) byDay.set(Math.floor(p.at / DAY_MS), p);
  return [...byDay.values()];
}
