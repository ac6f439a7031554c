// kube-bench's `--json` shape, so dashboards and scripts that read kube-bench can read Vigil:
// {"Controls": [{id, version, detected_version, text, node_type, tests: [{section, type, pass, fail, warn,
// info, desc, results: [{test_number, test_desc, audit, AuditEnv, AuditConfig, type, remediation, test_info,
// status, actual_value, scored, IsMultiple, expected_result, reason}]}], total_pass, ...}], "Totals": {...}}
//
// Mapping decisions:
// - CIS section 1 → master, 2 → etcd, 3 → controlplane, 4 → node, 5 → policies (kube-bench's node types).
//   Groups are the second-level sections (1.1, 1.2, ...); section 2 has no subsections, so its group is "2".
// - Only CIS findings appear: kube-bench has no place for Vigil's PSS, port, PKI or kernel findings.
// - Several findings with one CIS id (one per file, say) become ONE result with IsMultiple: true, status
//   the worst of them, and one "resource: value" line each in actual_value. kube-bench readers key on
//   test_number, and kube-bench itself reports multi-file checks (1.1.9, 1.1.19 ...) as one result.
// - Status: pass → PASS, fail → FAIL, warn → WARN, error → WARN with the reason (kube-bench's verdict for
//   an audit it could not run on an unscored check), skip → INFO with type "skip" and the reason, as
//   kube-bench reports a check its config marks skip. kube-bench has no SKIP state.
import type { Finding, NodeReport, Status } from '../../proto/report.js';
import { compareCis, evidenceText, formatValue, resourceName } from '../../proto/finding-text.js';

/** The kube-bench benchmark whose checks Vigil's CIS ids follow. */
const BENCHMARK_VERSION = 'cis-1.12';

type KbStatus = 'PASS' | 'FAIL' | 'WARN' | 'INFO';

const CONTROLS: Record<string, { text: string; nodeType: string }> = {
  1: { text: 'Control Plane Security Configuration', nodeType: 'master' },
  2: { text: 'Etcd Node Configuration', nodeType: 'etcd' },
  3: { text: 'Control Plane Configuration', nodeType: 'controlplane' },
  4: { text: 'Worker Node Security Configuration', nodeType: 'node' },
  5: { text: 'Kubernetes Policies', nodeType: 'policies' },
};

const GROUP_TEXT: Record<string, string> = {
  '1.1': 'Control Plane Node Configuration Files',
  '1.2': 'API Server',
  '1.3': 'Controller Manager',
  '1.4': 'Scheduler',
  2: 'Etcd Node Configuration',
  '3.1': 'Authentication and Authorization',
  '3.2': 'Logging',
  '4.1': 'Worker Node Configuration Files',
  '4.2': 'Kubelet',
  '4.3': 'kube-proxy',
  '5.1': 'RBAC and Service Accounts',
  '5.2': 'Pod Security Standards',
  '5.3': 'Network Policies and CNI',
  '5.4': 'Secrets Management',
  '5.5': 'Extensible Admission Control',
  '5.6': 'General Policies',
};

const STATUS: Record<Status, KbStatus> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', error: 'WARN', skip: 'INFO' };
// Worst first: the merged result of several findings takes the first state any of them has.
const RANK: Status[] = ['fail', 'error', 'warn', 'pass', 'skip'];

interface KbResult {
  test_number: string;
  test_desc: string;
  audit: string;
  AuditEnv: string;
  AuditConfig: string;
  type: string;
  remediation: string;
  test_info: string[];
  status: KbStatus;
  actual_value: string;
  scored: boolean;
  IsMultiple: boolean;
  expected_result: string;
  reason?: string;
}

interface KbGroup {
  section: string; type: string; pass: number; fail: number; warn: number; info: number; desc: string;
  results: KbResult[];
}

export interface KbTotals { total_pass: number; total_fail: number; total_warn: number; total_info: number }

export interface KbControls extends KbTotals {
  id: string; version: string; detected_version?: string; text: string; node_type: string; tests: KbGroup[];
}

export interface KbOutput { Controls: KbControls[]; Totals: KbTotals }

/** 1.2.3 → 1.2; 2.1 → 2 (etcd's checks sit directly under section 2). */
export function groupOf(cis: string): string {
  const parts = cis.split('.');
  return parts.length >= 3 ? parts.slice(0, 2).join('.') : parts[0];
}

function distinct(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}

function reasonOf(f: Finding): string | undefined {
  const detail = f.evidence.detail ?? evidenceText(f.evidence);
  if (f.status === 'skip') return `skipped by Vigil${detail ? `: ${detail}` : ''}`;
  if (f.status === 'error') return `could not evaluate${detail ? `: ${detail}` : ''}`;
  if (f.status === 'warn' && f.evidence.detail) return f.evidence.detail;
  return undefined;
}

/** kube-bench prints the shell audit it ran; Vigil says which check read what. */
function auditOf(findings: Finding[]): string {
  const read = distinct(findings.map((f) => [f.evidence.source, f.evidence.path, f.evidence.key].filter(Boolean).join(' ')));
  return `vigil ${distinct(findings.map((f) => f.checkId)).join(', ')}: ${read.join('; ')}`;
}

function result(cis: string, findings: Finding[]): KbResult {
  const worst = RANK.find((s) => findings.some((f) => f.status === s))!;
  const multiple = findings.length > 1;
  const actual = multiple
    ? findings.map((f) => `${resourceName(f.resource)}: ${formatValue(f.evidence.value)}`).join('\n')
    : formatValue(findings[0].evidence.value);
  const reasons = distinct(findings.map((f) => {
    const why = reasonOf(f);
    return why && multiple ? `${resourceName(f.resource)}: ${why}` : why ?? '';
  }));
  const r: KbResult = {
    test_number: cis,
    test_desc: findings[0].title,
    audit: auditOf(findings),
    AuditEnv: '',
    AuditConfig: '',
    type: findings.every((f) => f.status === 'skip') ? 'skip' : '',
    remediation: findings[0].remediation,
    test_info: [findings[0].remediation],
    status: STATUS[worst],
    actual_value: actual,
    scored: true,
    IsMultiple: multiple,
    expected_result: distinct(findings.map((f) => f.evidence.expected ?? '')).join('; '),
  };
  if (reasons.length > 0) r.reason = reasons.join('; ');
  return r;
}

function tally(results: KbResult[]): { pass: number; fail: number; warn: number; info: number } {
  const t = { pass: 0, fail: 0, warn: 0, info: 0 };
  for (const r of results) t[r.status.toLowerCase() as keyof typeof t]++;
  return t;
}

/** Major.minor of the Kubernetes version a component reported (kube-bench prints e.g. "1.30"). */
function detectedVersion(report: NodeReport): string | undefined {
  const components = report.node.components ?? {};
  for (const name of ['kube-apiserver', 'kubelet', 'kube-proxy', 'kube-controller-manager', 'kube-scheduler']) {
    const m = /(\d+)\.(\d+)/.exec(components[name]?.version ?? '');
    if (m) return `${m[1]}.${m[2]}`;
  }
  return undefined;
}

function toKubeBench(report: NodeReport): KbOutput {
  const byCis = new Map<string, Finding[]>();
  // Non-CIS findings (PSS, ports, PKI, kernel, gather errors) have no kube-bench equivalent.
  for (const f of report.findings) {
    if (f.cis === null || !CONTROLS[f.cis.split('.')[0]]) continue;
    const list = byCis.get(f.cis);
    if (list) list.push(f);
    else byCis.set(f.cis, [f]);
  }
  const groups = new Map<string, KbResult[]>();
  for (const cis of [...byCis.keys()].sort(compareCis)) {
    const g = groupOf(cis);
    const r = result(cis, byCis.get(cis)!);
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  const version = detectedVersion(report);
  const controls: KbControls[] = [];
  for (const id of Object.keys(CONTROLS)) {
    const tests: KbGroup[] = [...groups.entries()]
      .filter(([g]) => g.split('.')[0] === id)
      .sort(([a], [b]) => compareCis(a, b))
      .map(([section, results]) => ({
        section, type: '', ...tally(results), desc: GROUP_TEXT[section] ?? `Section ${section}`, results,
      }));
    if (tests.length === 0) continue;
    const t = tally(tests.flatMap((g) => g.results));
    controls.push({
      id, version: BENCHMARK_VERSION, ...(version ? { detected_version: version } : {}),
      text: CONTROLS[id].text, node_type: CONTROLS[id].nodeType, tests,
      total_pass: t.pass, total_fail: t.fail, total_warn: t.warn, total_info: t.info,
    });
  }
  const sum = (k: keyof KbTotals): number => controls.reduce((n, c) => n + c[k], 0);
  return {
    Controls: controls,
    Totals: { total_pass: sum('total_pass'), total_fail: sum('total_fail'), total_warn: sum('total_warn'), total_info: sum('total_info') },
  };
}

export function render(report: NodeReport): string {
  return JSON.stringify(toKubeBench(report), null, 2) + '\n';
}
