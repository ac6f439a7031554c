import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hardenedWorker, WORKER_PIDS } from '../../fixtures/hosts/hardened-worker.js';
import { WORKER_NODE } from '../../fixtures/hosts/pki.js';
import {
  CIS_NODE_IDS, CONTROL_PLANE_SECTIONS, controlPlaneNonSkips, scanFixture, verdictMismatches, type Expected, type Scanned,
} from './verdicts.js';

// Section 4 must all pass. Sections 1-3 judge a control plane this node does not run: `skip`, with three
// families that may legitimately be judged on a worker too (never failed):
// - 1.1.9/1.1.10: CNI files exist on every node running a kubelet (here 600 root:root);
// - 1.1.19-1.1.21: the node's /etc/kubernetes/pki holds the cluster CA (644 root:root);
// - 3.1.x: cluster-wide manual reviews, which a tool may list on any node.
const EXPECTED: Record<string, Expected> = Object.fromEntries(CIS_NODE_IDS.map((id): [string, Expected] => {
  if (!CONTROL_PLANE_SECTIONS.test(id)) return [id, 'pass'];
  if (['1.1.9', '1.1.10', '1.1.19', '1.1.20', '1.1.21'].includes(id)) return [id, ['pass', 'skip']];
  if (id.startsWith('3.1.')) return [id, ['skip', 'warn']];
  return [id, 'skip'];
}));

describe('scan: hardened worker', () => {
  let scanned: Scanned;
  beforeAll(async () => { scanned = await scanFixture(hardenedWorker()); });
  afterAll(() => scanned?.host.cleanup());

  it('passes every section-4 check and skips the control plane', () => {
    expect(verdictMismatches(scanned.report, EXPECTED)).toEqual([]);
  });

  it('never fails or errors a control-plane check on a worker', () => {
    const bad = controlPlaneNonSkips(scanned.report).filter((f) => f.status === 'fail' || f.status === 'error');
    expect(bad.map((f) => `${f.cis} ${f.status} ${JSON.stringify(f.evidence)}`)).toEqual([]);
  });

  it('has no failing and no error finding at all', () => {
    const bad = scanned.report.findings.filter((f) => f.status === 'fail' || f.status === 'error');
    expect(bad.map((f) => `${f.checkId} ${f.status} ${JSON.stringify(f.evidence)}`)).toEqual([]);
    expect(scanned.report.summary.pass).toBeGreaterThan(20);
  });

  it('passes protect-kernel-defaults (not a CIS id in this benchmark version)', () => {
    const f = scanned.report.findings.find((x) => x.checkId === 'kubelet-protect-kernel-defaults');
    if (f) expect(f.status).toBe('pass');
  });

  it('sees a worker: kubelet, kube-proxy and containerd, no control plane, role not control-plane', () => {
    const { components } = scanned.snapshot;
    expect(Object.keys(components).sort()).toEqual(['containerd', 'kube-proxy', 'kubelet']);
    expect(components.kubelet?.pid).toBe(WORKER_PIDS.kubelet);
    expect(scanned.report.node.name).toBe(WORKER_NODE);
    expect(scanned.report.node.roles).not.toContain('control-plane');
  });

  it('reads kube-proxy metricsBindAddress from its --config file', () => {
    expect(scanned.snapshot.kubeProxyConfig).toMatchObject({
      path: '/var/lib/kube-proxy/config.conf', metricsBindAddress: '127.0.0.1:10249',
    });
  });

  it('takes every hardening key from the config file', () => {
    const s = scanned.snapshot.kubelet!.settings;
    const fromFile = (key: string, value: unknown): void => {
      expect(s[key], key).toMatchObject({ source: 'config-file', path: '/var/lib/kubelet/config.yaml' });
      expect(s[key]?.value, key).toEqual(value);
    };
    fromFile('authentication.anonymous.enabled', false);
    fromFile('authorization.mode', 'Webhook');
    fromFile('readOnlyPort', 0);
    fromFile('podPidsLimit', 4096);
    fromFile('seccompDefault', true);
    fromFile('tlsCertFile', '/var/lib/kubelet/pki/kubelet.crt');
  });
});
