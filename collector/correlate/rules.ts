// The rule catalogue: every correlation the collector draws.
import { ATTACK_PATH_RULES } from './attack-paths.js';
import { CLUSTER_PATH_RULES } from './cluster-paths.js';
import { COVERAGE_RULES } from './coverage.js';
import { driftRule } from './drift.js';
import { severityRank } from '../../proto/report.js';
import type { ClusterState, Correlation, CorrelationRule } from './types.js';

export const RULES: CorrelationRule[] = [driftRule, ...ATTACK_PATH_RULES, ...CLUSTER_PATH_RULES, ...COVERAGE_RULES];

/** Pure: every rule over one state, most severe first. */
export function correlate(state: ClusterState, rules: readonly CorrelationRule[] = RULES): Correlation[] {
  return sortCorrelations(rules.flatMap((r) => r.evaluate(state)));
}

/** localeCompare's order (the default locale's collation), without building a collator per comparison. */
const collator = new Intl.Collator();

/** Most severe first, then by kind and id (ids are unique: the order does not depend on the rules' order). */
export function sortCorrelations(all: Correlation[]): Correlation[] {
  return all.sort((a, b) => severityRank(b.severity) - severityRank(a.severity)
    || collator.compare(a.kind, b.kind) || collator.compare(a.id, b.id));
}
