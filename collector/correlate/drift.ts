// Drift: a node whose effective setting differs from the other nodes of the same role.
// Compared per finding id (same check on the same resource) within one role set; the value is evidence.value
// (canonical JSON), or the status when a check carries no value.
import type { Severity } from '../../proto/report.js';
import { roleKey } from '../store/rows.js';
import type { SettingRow } from '../store/types.js';
import type { Correlation, CorrelationRule, DriftBaseline, EvidenceRef } from './types.js';

const valueOf = (r: SettingRow): string => r.valueKey ?? `status:${r.status}`;
const rowRef = (r: SettingRow): EvidenceRef => ({
  node: r.node, findingId: r.findingId, checkId: r.checkId, status: r.status,
  ...(r.valueKey === null ? {} : { value: parseValueKey(r.valueKey) }),
});

/** Long values are stored as a digest (`sha1:...`), which is shown as is. */
const parseValueKey = (key: string): unknown => (key.startsWith('sha1:') ? key : JSON.parse(key) as unknown);

/** A baseline as valueOf wrote it: a value's canonical JSON, or `status:<status>` for a check without a value. */
function describeBaseline(key: string, nodes: number, of: number): DriftBaseline {
  return key.startsWith('status:') ? { status: key.slice('status:'.length), nodes, of } : { value: parseValueKey(key), nodes, of };
}

/** The value the group agrees on, or undefined when it does not agree enough to call anyone drifted. */
function baselineValue(rows: readonly SettingRow[]): string | undefined {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(valueOf(r), (counts.get(valueOf(r)) ?? 0) + 1);
  for (const [value, n] of counts) if (n * 2 > rows.length) return value;
  // No strict majority (e.g. two workers that disagree): when the passing nodes agree on one value and are at
  // least as many as the failing ones, the failing nodes are the ones that drifted.
  const passing = rows.filter((r) => r.status === 'pass');
  const failing = rows.filter((r) => r.status === 'fail');
  const passValues = new Set(passing.map(valueOf));
  if (passing.length > 0 && failing.length > 0 && passValues.size === 1 && passing.length >= failing.length) {
    return [...passValues][0];
  }
  return undefined;
}

export const driftRule: CorrelationRule = {
  id: 'drift-setting',
  kind: 'drift',
  description: 'A node whose effective setting (same check, same resource) differs from the majority of nodes of its role.',
  evaluate(state) {
    const roles = new Map(state.nodes.map((n) => [n.name, roleKey(n.roles)]));
    const groups = new Map<string, SettingRow[]>();
    for (const row of state.settings) {
      const role = roles.get(row.node) ?? 'none';
      const key = `${role}\u0000${row.findingId}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(row);
    }
    const out: Correlation[] = [];
    for (const [key, rows] of groups) {
      if (rows.length < 2) continue;
      const baseline = baselineValue(rows);
      if (baseline === undefined) continue;
      const role = key.slice(0, key.indexOf('\u0000'));
      const agreeing = rows.filter((r) => valueOf(r) === baseline);
      for (const r of rows) {
        if (valueOf(r) === baseline) continue;
        const title = state.checkTitles.get(r.checkId) ?? r.checkId;
        const severity: Severity = r.status === 'fail' ? r.severity : 'low';
        out.push({
          id: `drift:${role}:${r.findingId}:${r.node}`,
          kind: 'drift',
          rule: driftRule.id,
          severity,
          title: `${r.node} differs from the other ${role} nodes: ${title}`,
          nodes: [r.node],
          evidence: [rowRef(r), ...agreeing.slice(0, 3).map(rowRef)],
          detail: `${r.node} has ${r.valueKey ?? r.status}; ${agreeing.length} of ${rows.length} ${role} nodes have ${
            agreeing[0].valueKey ?? agreeing[0].status}`,
          role,
          baseline: describeBaseline(baseline, agreeing.length, rows.length),
        });
      }
    }
    return out;
  },
};
