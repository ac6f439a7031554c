import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../agent/report/index.js';
import { fileUri } from '../../../agent/report/sarif.js';
import { controlPlaneReport, report } from './sample-report.js';

interface SarifResult {
  ruleId: string; ruleIndex: number; kind: string; level: string; message: { text: string };
  locations: { physicalLocation?: { artifactLocation: { uri: string } }; logicalLocations?: { name: string; fullyQualifiedName: string }[] }[];
  partialFingerprints: Record<string, string>;
  properties: Record<string, unknown>;
}

function sarif(r = controlPlaneReport()) {
  return JSON.parse(renderReport('sarif', r));
}

describe('sarif format', () => {
  it('is SARIF 2.1.0 with tool vigil and one rule per distinct check id', () => {
    const doc = sarif();
    expect(doc.version).toBe('2.1.0');
    expect(doc.$schema).toMatch(/sarif-2\.1\.0/);
    expect(doc.runs).toHaveLength(1);
    const driver = doc.runs[0].tool.driver;
    expect(driver.name).toBe('vigil');
    expect(driver.version).toBe('0.1.0');
    const ids = driver.rules.map((r: { id: string }) => r.id);
    expect(ids).toHaveLength(9); // 10 findings, cis.1.1.13 twice
    expect(new Set(ids).size).toBe(ids.length);
    const anon = driver.rules.find((r: { id: string }) => r.id === 'cis.1.2.1');
    expect(anon.shortDescription.text).toMatch(/^Anonymous requests/);
    expect(anon.help.text).toBe('Set --anonymous-auth=false in <kube-apiserver.yaml> & restart "it".');
    expect(anon.properties).toMatchObject({ severity: 'high', cis: '1.2.1', 'security-severity': '8.0' });
  });

  it('reports fail and warn findings as results, levels from severity, rule indexes that resolve', () => {
    const doc = sarif();
    const results: SarifResult[] = doc.runs[0].results;
    expect(results.map((r) => r.ruleId)).toEqual(['cis.1.2.1', 'cis.1.2.10', 'cis.1.1.13', 'cis.4.2.1', 'port.exposed']);
    const rules = doc.runs[0].tool.driver.rules;
    for (const r of results) expect(rules[r.ruleIndex].id).toBe(r.ruleId);
    const level = Object.fromEntries(results.map((r) => [r.ruleId, [r.kind, r.level]]));
    expect(level).toEqual({
      'cis.1.2.1': ['fail', 'error'], // high
      'cis.1.2.10': ['review', 'note'], // warn, low
      'cis.1.1.13': ['fail', 'error'], // critical
      'cis.4.2.1': ['fail', 'error'],
      'port.exposed': ['fail', 'warning'], // medium
    });
  });

  it('puts unreadable facts (error findings) in tool execution notifications, not results', () => {
    const inv = sarif().runs[0].invocations[0];
    expect(inv.executionSuccessful).toBe(true);
    expect(inv.endTimeUtc).toBe('2025-01-02T03:04:05.000Z');
    expect(inv.toolExecutionNotifications).toHaveLength(1);
    const n = inv.toolExecutionNotifications[0];
    expect(n.level).toBe('error');
    expect(n.associatedRule.id).toBe('vigil.gather-error');
    expect(n.locations[0].physicalLocation.artifactLocation.uri).toBe('file:///etc/kubernetes/pki/x.key');
  });

  it('locates file findings by file URI and the rest by logical location', () => {
    const results: SarifResult[] = sarif().runs[0].results;
    const file = results.find((r) => r.ruleId === 'cis.1.1.13')!;
    expect(file.locations[0].physicalLocation!.artifactLocation.uri).toBe('file:///etc/kubernetes/super%07admin.conf');
    const component = results.find((r) => r.ruleId === 'cis.4.2.1')!;
    expect(component.locations[0].logicalLocations![0]).toMatchObject({ name: 'kubelet', fullyQualifiedName: 'cp-1/component/kubelet' });
    const port = results.find((r) => r.ruleId === 'port.exposed')!;
    expect(port.locations[0].logicalLocations![0].name).toBe('tcp 0.0.0.0:10250');
  });

  it('fingerprints results with the stable finding id', () => {
    const r = controlPlaneReport();
    const results: SarifResult[] = sarif(r).runs[0].results;
    const ids = r.findings.filter((f) => f.status === 'fail' || f.status === 'warn').map((f) => f.id);
    expect(results.map((x) => x.partialFingerprints['vigilFindingId/v1'])).toEqual(ids);
    // Same input, same output: nothing time- or order-dependent sneaks in.
    expect(renderReport('sarif', controlPlaneReport())).toBe(renderReport('sarif', controlPlaneReport()));
  });

  it('percent-encodes file URIs segment by segment', () => {
    expect(fileUri('/var/lib/my dir/a#b?.yaml')).toBe('file:///var/lib/my%20dir/a%23b%3F.yaml');
  });

  it('renders an empty report as a valid run with no results', () => {
    const doc = sarif(report([]));
    expect(doc.runs[0].results).toEqual([]);
    expect(doc.runs[0].tool.driver.rules).toEqual([]);
  });
});
