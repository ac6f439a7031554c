// How times, numbers and evidence read on the page.
import type { Severity, Status } from './types.js';
export { evidenceText, formatValue, resourceName, compareCis } from '../../../proto/finding-text.js';

export const SEVERITY_ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
export const SEVERITY_LABEL: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info' };
export const STATUS_LABEL: Record<Status | 'resolved', string> = {
  fail: 'Fail', warn: 'Warn', pass: 'Pass', skip: 'Skip', error: 'Error', resolved: 'Resolved',
};

const number = new Intl.NumberFormat('en');
export const fmtNumber = (n: number): string => number.format(n);

export function fmtPercent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '–';
  return `${(rate * 100).toFixed(rate === 1 || rate === 0 ? 0 : 1)}%`;
}

const dateTime = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });
export const fmtTime = (iso: string): string => dateTime.format(new Date(iso));

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86_400_000], ['month', 30 * 86_400_000], ['week', 7 * 86_400_000], ['day', 86_400_000],
  ['hour', 3_600_000], ['minute', 60_000], ['second', 1000],
];

export function fmtAgo(iso: string, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === 'second') {
      if (unit === 'second' && Math.abs(diff) < 10_000) return 'just now';
      return relative.format(Math.round(diff / ms), unit);
    }
  }
  return '';
}

export function worstSeverity(counts: Partial<Record<Severity, number>> | undefined): Severity | null {
  if (!counts) return null;
  return SEVERITY_ORDER.find((s) => (counts[s] ?? 0) > 0) ?? null;
}

/** Names in natural order (node-2 before node-10). One collator: localeCompare with options builds one per call. */
const natural = new Intl.Collator('en', { numeric: true });
export const compareNames = (a: string, b: string): number => natural.compare(a, b);
