// Regression guard: every fixture host is scanned and its findings (id, status, severity, title, resource, evidence,
// in report order) must equal the recorded ones in test/fixtures/golden/; the checks' own data (CIS id, component,
// remediation, ...) is recorded once in checks.ndjson. A deliberate change of a verdict or of its evidence is
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

function line(f: Finding): string {
  const { id, checkId, status, severity, title, resource, evidence } = f;
  return JSON.stringify({ id, checkId, status, severity, title, resource, evidence });
}

describe('scan findings of every fixture host stay as recorded', () => {
  it.each(Object.keys(FIXTURE_HOSTS))('%s', async (name) => {
    const scanned = await scanFixture(FIXTURE_HOSTS[name]());
    try {
      const text = scanned.report.findings.map(line).join('\n') + '\n';
      await expect(stable(text, scanned.host.hostRoot)).toMatchFileSnapshot(`${GOLDEN}/scan/${name}.ndjson`);
    } finally {
      scanned.host.cleanup();
    }
  });

  // Snapshots built in code reach what no fixture host has (every CIS check failing at once, nothing on the node).
  it.each([['empty-node', emptySnapshot], ['cis-hardened-node', hardenedNode], ['cis-weak-node', weakNode]])('%s (in-code snapshot)', async (name, build) => {
    const text = buildReport(build(), selectChecks(undefined)).findings.map(line).join('\n') + '\n';
    await expect(stable(text, '/nonexistent-host-root')).toMatchFileSnapshot(`${GOLDEN}/scan/${name}.ndjson`);
  });

  it('the checks a scan runs, with their data, stay as recorded', async () => {
    const text = selectChecks(undefined).map(({ evaluate: _evaluate, ...meta }) => JSON.stringify(meta)).join('\n') + '\n';
    await expect(text).toMatchFileSnapshot(`${GOLDEN}/checks.ndjson`);
  });
});
