// Regression guard: every fixture host is scanned and its findings (id, status, severity, title, resource, evidence)
// must equal the recorded ones in test/fixtures/golden/; the checks' own data (CIS id, component, remediation, ...)
// is recorded once in checks.ndjson. Lines are sorted and object keys too: what is compared is the content, not the
// order in which checks run or fields are written. A deliberate change of a verdict or of its evidence is
// recorded with `npx vitest run test/unit/scan/catalogue-equivalence.test.ts -u` and reviewed in the diff.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { buildReport, selectChecks } from '../../../agent/scan.js';
import { emptySnapshot } from '../checks/snapshot-factory.js';
import { hardenedNode, weakNode } from '../checks/cis-profiles.js';
import { fixturePki } from '../../fixtures/hosts/pki.js';
import { FIXTURE_HOSTS } from './fixture-hosts.js';
import { scanFixture } from './verdicts.js';

const GOLDEN = '../../fixtures/golden';

// Real PKI generation takes seconds on a cold cache: do it under the hook timeout, not a test's.
beforeAll(() => { fixturePki(); });

/**
 * What differs between two scans of the same fixture on two machines or two days: the temp dir the host is built
 * in (it shows in errno messages), and the validity dates of the PKI, generated when the fixture cache was made.
 */
function stable(text: string, hostRoot: string): string {
  return text
    .split(hostRoot).join('<host-root>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<date>')
    .replace(/\b\d+ (more )?day\(s\)/g, 'N $1day(s)');
}

/** JSON with object keys sorted at every level. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

function lines(findings: readonly Finding[]): string {
  return findings.map(({ id, checkId, status, severity, title, resource, evidence }) =>
    canonical({ id, checkId, status, severity, title, resource, evidence })).sort().join('\n') + '\n';
}

describe('scan findings of every fixture host stay as recorded', () => {
  it.each(Object.keys(FIXTURE_HOSTS))('%s', async (name) => {
    const scanned = await scanFixture(FIXTURE_HOSTS[name]());
    try {
      const text = lines(scanned.report.findings);
      await expect(stable(text, scanned.host.hostRoot)).toMatchFileSnapshot(`${GOLDEN}/scan/${name}.ndjson`);
    } finally {
      scanned.host.cleanup();
    }
  });

  // Snapshots built in code reach what no fixture host has (every CIS check failing at once, nothing on the node).
  it.each([['empty-node', emptySnapshot], ['cis-hardened-node', hardenedNode], ['cis-weak-node', weakNode]])('%s (in-code snapshot)', async (name, build) => {
    const text = lines(buildReport(build(), selectChecks(undefined)).findings);
    await expect(stable(text, '/nonexistent-host-root')).toMatchFileSnapshot(`${GOLDEN}/scan/${name}.ndjson`);
  });

  it('the checks a scan runs, with their data, stay as recorded', async () => {
    const text = selectChecks(undefined).map(({ id, cis, title, severity, component, remediation, pss, level, differsFromKubeBench }) =>
      canonical({ id, cis, title, severity, component, remediation, pss, level, differsFromKubeBench })).sort().join('\n') + '\n';
    await expect(text).toMatchFileSnapshot(`${GOLDEN}/checks.ndjson`);
  });
});
