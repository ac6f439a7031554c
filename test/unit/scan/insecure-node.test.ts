import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSECURE_ETCD_ENV, INSECURE_PIDS, INSECURE_PLANTED, insecureNode } from '../../fixtures/hosts/insecure-node.js';
import {
  CIS_NODE_IDS, evidenceMentions, evidenceShowsMode, findingsFor, scanFixture, verdictMismatches, type Scanned,
} from './verdicts.js';

describe('scan: deliberately insecure node', () => {
  let scanned: Scanned;
  beforeAll(async () => { scanned = await scanFixture(insecureNode()); });
  afterAll(() => scanned?.host.cleanup());

  it('plants only misconfigurations with a real CIS id', () => {
    for (const p of INSECURE_PLANTED) expect(CIS_NODE_IDS, p.what).toContain(p.cis);
  });

  it('fails every planted CIS id', () => {
    const table = Object.fromEntries(INSECURE_PLANTED.map((p) => [p.cis, 'fail' as const]));
    expect(verdictMismatches(scanned.report, table)).toEqual([]);
  });

  it('names the path, flag or key and the value of each planted misconfiguration in a failing finding', () => {
    const missing: string[] = [];
    for (const p of INSECURE_PLANTED) {
      const fails = findingsFor(scanned.report, p.cis).filter((f) => f.status === 'fail');
      const match = fails.find((f) => evidenceMentions(f, p.evidence) && (p.mode === undefined || evidenceShowsMode(f, p.mode)));
      if (!match) {
        missing.push(`${p.cis} (${p.what}): no failing finding with ${p.evidence.join(', ')}` +
          (p.mode !== undefined ? ` and mode ${p.mode.toString(8)}` : '') +
          ` — got ${fails.map((f) => JSON.stringify(f.evidence)).join(' ; ') || 'no failing finding'}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('reads the env-only etcd setting from the process environment, keeping no other variable', () => {
    const etcd = scanned.snapshot.components.etcd!;
    expect(etcd.pid).toBe(INSECURE_PIDS.etcd);
    expect(etcd.env).toEqual(INSECURE_ETCD_ENV);
    const auto = findingsFor(scanned.report, '2.3').find((f) => f.status === 'fail');
    expect(auto?.evidence.source).toBe('env');
  });

  it('takes the streaming timeout from the flag, over the (defaulted) config file', () => {
    expect(scanned.snapshot.kubelet!.settings['streamingConnectionIdleTimeout']).toMatchObject({ source: 'flag' });
    const f = findingsFor(scanned.report, '4.2.5').find((x) => x.status === 'fail');
    expect(f?.evidence.source).toBe('flag');
  });

  it('judges the encryption config by its first provider', () => {
    expect(scanned.snapshot.encryptionConfig?.resources[0]?.providers[0]).toBe('identity');
    expect(findingsFor(scanned.report, '1.2.27').map((f) => f.status)).toEqual(['pass']);
  });

  it('gives every failing finding a remediation and never leaks key material or env values into evidence', () => {
    const text = JSON.stringify(scanned.report);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('/usr/local/sbin:/usr/local/bin'); // the etcd container's PATH
    for (const f of scanned.report.findings.filter((x) => x.status === 'fail')) expect(f.remediation.length, f.checkId).toBeGreaterThan(10);
  });

  it('reports no gather error: every planted file is readable', () => {
    const errors = scanned.report.findings.filter((f) => f.status === 'error');
    expect(errors.map((f) => `${f.checkId} ${JSON.stringify(f.evidence)}`)).toEqual([]);
  });
});
