import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../agent/report/index.js';
import { truncate, truncateLeft, visible, wrap } from '../../../agent/report/table.js';
import { formatValue } from '../../../proto/finding-text.js';
import { controlPlaneReport, noKubernetesReport } from './sample-report.js';

const ESC = '\x1b';
/** Where the title column starts (after the indent, STATUS, SEVERITY and CIS columns). */
const TITLE_AT = 26;

/** The title of the finding on line `at`, joined from its wrapped lines (the header line says where RESOURCE starts). */
function titleText(lines: string[], at: number): string {
  const header = lines.find((l) => l.startsWith('  STATUS'))!;
  const end = header.indexOf('RESOURCE');
  const parts = [lines[at].slice(TITLE_AT, end).trim()];
  for (let i = at + 1; i < lines.length && /^ {26}\S/.test(lines[i]) && !lines[i].slice(TITLE_AT).startsWith('fix: '); i++) {
    parts.push(lines[i].slice(TITLE_AT, end).trim());
  }
  return parts.filter(Boolean).join(' ');
}

describe('table format', () => {
  it('groups findings by component, one line per finding, with a summary line', () => {
    const out = renderReport('table', controlPlaneReport());
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toContain('node cp-1 (control-plane)');
    const headings = lines.filter((l) => /^\S/.test(l) && l.includes('  ('));
    expect(headings.map((l) => l.split('  ')[0])).toEqual(['kube-apiserver', 'etcd', 'cluster', 'kubelet', 'node']);
    // 10 findings, one line each (indented), none collapsed since no group is all-skip
    expect(lines.filter((l) => /^ {2}(PASS|FAIL|WARN|SKIP|ERROR)/.test(l))).toHaveLength(10);
    expect(lines.at(-1)).toBe('3 pass, 4 fail, 1 warn, 1 skip, 1 error');
  });

  it('shows CIS id, severity, resource and evidence value against expected', () => {
    const out = renderReport('table', controlPlaneReport());
    const kubelet = out.split('\n').find((l) => l.includes('4.2.1'))!;
    expect(kubelet).toMatch(/^ {2}FAIL +critical +4\.2\.1 +Kubelet anonymous auth is disabled/);
    expect(kubelet).toContain('true, want false');
    const file = out.split('\n').find((l) => l.includes('1.1.1 '))!;
    expect(file).toContain('…/kube-apiserver.yaml');
  });

  it('keeps every line within 120 columns and wraps long titles instead of cutting them (issue 13)', () => {
    const out = renderReport('table', controlPlaneReport());
    for (const line of out.split('\n')) expect([...line].length).toBeLessThanOrEqual(120);
    const lines = out.split('\n');
    const at = lines.findIndex((l) => l.includes('1.2.1 '));
    expect(lines[at]).not.toContain('force truncation');
    const title = controlPlaneReport().findings.find((f) => f.cis === '1.2.1')!.title;
    expect(titleText(lines, at)).toBe(title);
  });

  it('uses no ANSI colour unless asked, and colours statuses when asked', () => {
    const plain = renderReport('table', controlPlaneReport(), { color: false });
    expect(plain).not.toContain(ESC);
    const defaulted = renderReport('table', controlPlaneReport());
    expect(defaulted).not.toContain(ESC);
    const coloured = renderReport('table', controlPlaneReport(), { color: true });
    expect(coloured).toContain(`${ESC}[31mFAIL `);
    expect(coloured).toContain(`${ESC}[32mPASS `);
  });

  it('never passes control characters from host data to the terminal', () => {
    const out = renderReport('table', controlPlaneReport(), { color: false });
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(out).toContain('super\\x07admin.conf');
    expect(out).toContain('EACCES\\x00\\x1b[31m');
  });

  it('says plainly when no Kubernetes component runs, and what was judged', () => {
    const out = renderReport('table', noKubernetesReport());
    expect(out).toContain('No Kubernetes components found on this node');
    expect(out).toContain('2 CIS checks skipped');
    expect(out).toContain('Judged instead: 2 host-level findings (kernel): 1 pass, 1 fail, 0 warn, 0 skip, 0 error.');
    expect(out).not.toContain('kube-apiserver  (');
    expect(out).toMatch(/FAIL +medium +- +dmesg is restricted/);
    expect(out.trimEnd().split('\n').at(-1)).toBe('1 pass, 1 fail, 0 warn, 2 skip, 0 error');
  });

  it('says when nothing at all could be judged', () => {
    const r = noKubernetesReport();
    r.findings = r.findings.map((f) => ({ ...f, status: 'skip' as const }));
    const out = renderReport('table', r);
    expect(out).toContain('No Kubernetes components found on this node');
    expect(out).toContain('Nothing else could be judged (2 host-level checks skipped too).');
  });

  it('does not claim there are no components when one runs', () => {
    expect(renderReport('table', controlPlaneReport())).not.toContain('No Kubernetes components');
  });

  it('collapses a component whose checks were all skipped into one line', () => {
    const r = noKubernetesReport();
    r.node.components = { kubelet: { version: 'v1.30.0', source: 'process' } };
    r.findings.splice(2, 0, { ...r.findings[0], id: 'other', cis: '1.2.2', checkId: 'cis.1.2.2' });
    const out = renderReport('table', r);
    expect(out).not.toContain('No Kubernetes components');
    expect(out).toContain('all 2 checks skipped: kube-apiserver is not running on this node');
  });
});

describe('table text helpers', () => {
  it('shows several settings judged together as key=value, unset for null', () => {
    expect(formatValue({ '--tls-cert-file': '/a.crt', tlsCertFile: null })).toBe('--tls-cert-file=/a.crt tlsCertFile=unset');
    expect(formatValue(['a', 1, true])).toBe('a,1,true');
    expect(formatValue(undefined)).toBe('');
  });
  it('truncates at a word boundary near the end', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('the quick brown fox jumps', 18)).toBe('the quick brown…');
    expect([...truncate('x'.repeat(50), 20)]).toHaveLength(20);
  });
  it('keeps the end of long paths', () => {
    expect(truncateLeft('/etc/kubernetes/pki/apiserver.key', 20)).toBe('…/pki/apiserver.key');
  });
  it('escapes C0 and C1 controls', () => {
    expect(visible('a\u0000b\u009bc\td')).toBe('a\\x00b\\x9bc\\x09d');
  });
});

describe('table layout (issue 13)', () => {
  const rows = (out: string): string[] => out.split('\n').filter((l) => /^ {2}(PASS|FAIL|WARN|SKIP|ERROR)/.test(l));
  /** A component's group: its heading line to the blank line after it. */
  const group = (out: string, component: string): string => {
    const lines = out.split('\n');
    const from = lines.findIndex((l) => l.startsWith(`${component}  (`));
    const to = lines.indexOf('', from);
    return lines.slice(from, to).join('\n');
  };

  it('has column headers', () => {
    for (const width of [80, 200]) {
      const header = renderReport('table', controlPlaneReport(), { width }).split('\n').find((l) => l.startsWith('  STATUS'))!;
      expect(header).toMatch(/^ {2}STATUS +SEVERITY +CIS +CHECK/);
      expect(header).toContain('RESOURCE');
      expect(header).toContain('EVIDENCE');
    }
  });

  it('at 80 columns: nothing cut, every line within 80, evidence and resource under the title', () => {
    const out = renderReport('table', controlPlaneReport(), { width: 80 });
    for (const line of out.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(out).not.toContain('…');
    const flat = out.replace(/\n +/g, ' ');
    for (const f of controlPlaneReport().findings) {
      if (f.status === 'skip') continue;
      expect(flat).toContain(f.title.replace('\u0007', '\\x07'));
    }
    expect(flat).toContain('/etc/kubernetes/manifests/kube-apiserver.yaml: 600, want 600 or tighter');
  });

  it('at 200 columns: titles, resources and evidence whole, on one line each', () => {
    const out = renderReport('table', controlPlaneReport(), { width: 200 });
    for (const line of out.split('\n')) expect([...line].length).toBeLessThanOrEqual(200);
    expect(out).not.toContain('…');
    const file = out.split('\n').find((l) => l.includes('1.1.1 '))!;
    expect(file).toMatch(/API server static-pod manifest mode 600 or tighter +\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml +600, want 600 or tighter$/);
    const port = out.split('\n').find((l) => l.includes('Port open on all addresses'))!;
    expect(port).toContain('0.0.0.0:10250, want loopback or node address');
  });

  it('orders each group: failures by severity, then errors, warnings, passes, and one line for the skips', () => {
    const r = controlPlaneReport();
    const low = { ...r.findings[1], id: 'low-fail', cis: '1.2.9', severity: 'low' as const, title: 'A low failure' };
    r.findings.splice(0, 0, low);
    const out = renderReport('table', r, { width: 200 });
    const apiserver = group(out, 'kube-apiserver');
    expect(rows(apiserver).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'FAIL high 1.2.1', 'FAIL low 1.2.9', 'WARN low 1.2.10', 'PASS medium 1.1.1', 'SKIP 1 not',
    ]);
    expect(apiserver).toMatch(/SKIP +1 not applicable here \(flag removed in this version\): 1\.2\.2/);
    const node = group(out, 'node');
    expect(rows(node).map((l) => l.trim().split(/\s+/)[0])).toEqual(['FAIL', 'ERROR']);
  });

  it('shows the remediation of every failure, and with --details of warnings too, with the evidence source', () => {
    const out = renderReport('table', controlPlaneReport(), { width: 120 });
    expect(out).toContain('fix: Set --anonymous-auth=false in <kube-apiserver.yaml> & restart "it".');
    expect(out).toContain('fix: Fix cis.4.2.1.');
    expect(out).not.toContain('fix: Fix cis.1.2.10.');
    const details = renderReport('table', controlPlaneReport(), { width: 120, details: true });
    expect(details).toContain('fix: Fix cis.1.2.10.');
    expect(details).toContain('path: /var/lib/kubelet/config.yaml');
    expect(details).toContain('key: authentication.anonymous.enabled');
    // --details lists the skipped checks one by one
    expect(rows(details).some((l) => /^ {2}SKIP +medium +1\.2\.2 +Token auth file is not used/.test(l))).toBe(true);
  });

  it('wraps a long word (a path) inside its column instead of overflowing', () => {
    expect(wrap('a /very/long/path/without/spaces b', 10)).toEqual(['a', '/very/long', '/path/with', 'out/spaces', 'b']);
    expect(wrap('', 10)).toEqual(['']);
  });
});
