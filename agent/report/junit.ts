// JUnit XML, for CI systems: testsuites → one testsuite per component → one testcase per finding.
// fail → <failure>, error → <error>, skip → <skipped>, warn → a passing testcase with a <system-out> note
// (JUnit has no "warning" outcome, and a warning must not fail a pipeline on its own).
import type { Finding, NodeReport } from '../../proto/report.js';
import { countStatuses, groupByComponent } from './common.js';
import { evidenceLines, evidenceText, resourceName } from '../../proto/finding-text.js';
import { attrs, escapeText } from './xml.js';

function testcaseName(f: Finding): string {
  const resource = resourceName(f.resource);
  const base = `${f.cis ?? f.checkId} ${f.title}`;
  return resource === f.component || f.resource.kind === 'node' ? base : `${base} [${resource}]`;
}

function body(f: Finding): string {
  return [f.title, ...evidenceLines(f.evidence), `remediation: ${f.remediation}`].join('\n');
}

function testcase(f: Finding, indent: string): string {
  const open = `${indent}<testcase${attrs({ name: testcaseName(f), classname: `vigil.${f.component}`, time: '0' })}`;
  const inner = indent + '  ';
  switch (f.status) {
    case 'pass':
      return `${open}/>`;
    case 'fail':
      return `${open}>\n${inner}<failure${attrs({ message: evidenceText(f.evidence) || f.title, type: f.severity })}>`
        + `${escapeText(body(f))}</failure>\n${indent}</testcase>`;
    case 'error':
      return `${open}>\n${inner}<error${attrs({ message: f.evidence.detail ?? f.title, type: 'error' })}>`
        + `${escapeText(body(f))}</error>\n${indent}</testcase>`;
    case 'skip':
      return `${open}>\n${inner}<skipped${attrs({ message: f.evidence.detail ?? evidenceText(f.evidence) })}/>\n${indent}</testcase>`;
    case 'warn':
      return `${open}>\n${inner}<system-out>${escapeText(`WARN (${f.severity}): ${body(f)}`)}</system-out>\n${indent}</testcase>`;
  }
}

function counts(findings: readonly Finding[]): Record<string, number> {
  const c = countStatuses(findings);
  return { tests: findings.length, failures: c.fail, errors: c.error, skipped: c.skip };
}

export function render(report: NodeReport): string {
  const suites: string[] = [];
  for (const [component, findings] of groupByComponent(report.findings)) {
    suites.push(
      `  <testsuite${attrs({ name: component, ...counts(findings), time: '0', timestamp: report.scannedAt, hostname: report.node.name })}>`,
      ...findings.map((f) => testcase(f, '    ')),
      '  </testsuite>',
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: `vigil ${report.node.name}`, ...counts(report.findings), time: '0' })}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
