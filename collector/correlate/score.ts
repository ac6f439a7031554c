// Score: pass rate per node, per component and per CIS section. Pure over node summaries and check counts.
import type { Summary } from '../../proto/report.js';
import type { CheckRecord, NodeRecord } from '../store/types.js';

export interface PassRate {
  pass: number;
  fail: number;
  warn: number;
  /** pass / (pass + fail + warn); skip and error are not judged. Null when nothing was judged. */
  rate: number | null;
}

export interface ClusterScore {
  cluster: PassRate;
  nodes: Array<{ name: string } & PassRate>;
  components: Record<string, PassRate>;
  sections: Record<string, PassRate>;
}

export function passRate(s: Pick<Summary, 'pass' | 'fail' | 'warn'>): PassRate {
  const judged = s.pass + s.fail + s.warn;
  return { pass: s.pass, fail: s.fail, warn: s.warn, rate: judged === 0 ? null : Math.round((s.pass / judged) * 10_000) / 10_000 };
}

/** `4.2.1` → `4.2`, `2.2` → `2`: the section is the id without its last part. */
export function cisSection(cis: string): string {
  const parts = cis.split('.');
  return parts.length > 1 ? parts.slice(0, -1).join('.') : cis;
}

function add(into: Map<string, Summary>, key: string, s: Summary): void {
  const cur = into.get(key) ?? { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
  cur.pass += s.pass; cur.fail += s.fail; cur.warn += s.warn; cur.skip += s.skip; cur.error += s.error;
  into.set(key, cur);
}

const rates = (m: Map<string, Summary>): Record<string, PassRate> =>
  Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([k, s]) => [k, passRate(s)]));

export function computeScore(nodes: readonly NodeRecord[], checks: readonly CheckRecord[]): ClusterScore {
  const total = new Map<string, Summary>();
  for (const n of nodes) add(total, 'cluster', n.summary);
  const components = new Map<string, Summary>();
  const sections = new Map<string, Summary>();
  for (const c of checks) {
    add(components, c.component, c.counts);
    if (c.cis) add(sections, cisSection(c.cis), c.counts);
  }
  return {
    cluster: passRate(total.get('cluster') ?? { pass: 0, fail: 0, warn: 0 }),
    nodes: nodes.map((n) => ({ name: n.name, ...passRate(n.summary) })),
    components: rates(components),
    sections: rates(sections),
  };
}
