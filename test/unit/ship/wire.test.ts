import { describe, expect, it } from 'vitest';
import type { Finding, NodeReport } from '../../../proto/report.js';
import { envelopeFromWire, envelopeToWire, loadVigilProto, WireDecodeError, type Envelope } from '../../../proto/wire.js';
import { Backoff } from '../../../common/backoff.js';
import { findingsSubject, messageId } from '../../../proto/nats.js';

const finding: Finding = {
  id: 'k.1:abc', checkId: 'k.1', cis: null, status: 'fail', severity: 'critical', title: 'x', component: 'kubelet',
  resource: { kind: 'container', id: 'c1', namespace: 'ns', pod: 'p', container: 'c', extraKey: 1 } as Finding['resource'],
  evidence: { source: 'oci', value: { nested: [1, 'a'] } }, remediation: 'fix', pss: 'privileged', level: 'baseline',
  futureField: 'kept',
} as Finding;

describe('wire schema', () => {
  it('round-trips reports and deltas through protobuf bytes without loss', () => {
    const proto = loadVigilProto();
    const report: NodeReport = {
      schemaVersion: 1, node: { name: 'node-a', roles: ['control-plane'], kernel: '6.1', cpus: 2, agentVersion: '0.1.0',
        components: { kubelet: { version: 'v1.30.0', source: 'process' } } },
      scannedAt: '2026-01-01T00:00:00.000Z', findings: [finding], summary: { pass: 0, fail: 1, warn: 0, skip: 0, error: 0 },
    };
    const envelopes: Envelope[] = [
      { node: 'node-a', cluster: 'prod', seq: 1764166000123, payload: { kind: 'full', report } },
      { node: 'node-a', cluster: 'prod', seq: 1764166000124, payload: { kind: 'delta',
        delta: { scannedAt: report.scannedAt, added: [finding], changed: [], resolved: ['gone:1'] } } },
    ];
    for (const e of envelopes) {
      const bytes = proto.encodeAgentMessage(envelopeToWire(e));
      expect(envelopeFromWire(proto.decodeAgentMessage(bytes))).toEqual(e);
    }
  });

  it('refuses a message without a body and bad JSON inside a finding', () => {
    const proto = loadVigilProto();
    expect(() => envelopeFromWire(proto.decodeAgentMessage(Buffer.alloc(0)))).toThrow(WireDecodeError);
    const bad = envelopeToWire({ node: 'n', cluster: 'c', seq: 1, payload: { kind: 'delta',
      delta: { scannedAt: 'x', added: [finding], changed: [], resolved: [] } } });
    bad.delta!.added[0].resourceJson = '{nope';
    expect(() => envelopeFromWire(bad)).toThrow(/not valid JSON/);
    expect(() => proto.decodeAgentMessage(Buffer.from([0xff, 0xff, 0xff]))).toThrow();
  });

  it('names NATS subjects and message ids, refusing names that would break the subject', () => {
    expect(findingsSubject('prod', 'ip-10-0-0-1.ec2.internal')).toBe('vigil.findings.prod.ip-10-0-0-1.ec2.internal');
    expect(() => findingsSubject('prod', 'a*')).toThrow();
    expect(() => findingsSubject('prod', 'a>b')).toThrow();
    expect(() => findingsSubject('pr.od', 'a')).toThrow();
    expect(messageId('n1', 42)).toBe('n1:42');
  });
});

describe('Backoff', () => {
  it('grows exponentially to a ceiling, jittered within [d/2, d], and resets', () => {
    const lo = new Backoff({ baseMs: 100, maxMs: 1_000, random: () => 0 });
    expect([1, 2, 3, 4, 5].map(() => lo.next())).toEqual([50, 100, 200, 400, 500]);
    const hi = new Backoff({ baseMs: 100, maxMs: 1_000, random: () => 1 });
    expect([1, 2, 3, 4, 5].map(() => hi.next())).toEqual([100, 200, 400, 800, 1_000]);
    hi.reset();
    expect(hi.next()).toBe(100);
  });
});
