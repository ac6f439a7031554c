// The finding vocabulary as plain values, without zod: the agent imports these at run time, and loading zod
// (only the collector validates input with the schemas in report.ts) would cost the daemon ~14 MiB of memory.
export const STATUSES = ['pass', 'fail', 'warn', 'skip', 'error'] as const;
type StatusName = (typeof STATUSES)[number];

/** Ordered from least to most severe; `severityRank` relies on this order. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
type SeverityName = (typeof SEVERITIES)[number];
export const severityRank = (s: SeverityName): number => SEVERITIES.indexOf(s);

type Counts = Record<StatusName, number>;

export function summarize(findings: readonly { status: StatusName }[]): Counts {
  const summary: Counts = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
  for (const f of findings) summary[f.status]++;
  return summary;
}
