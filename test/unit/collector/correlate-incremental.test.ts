// Incremental correlation equals the full recompute: random sequences of full reports and deltas (settings that
// drift, attack-path facts, containers, role changes, unchanged reports that only move a node's last report) are
// applied to a real store; after each, the correlator updated from what the store's observers heard must give the
// same correlations and score as a full read, and as correlate() over the same state.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../proto/report.js';
import { FACT_INPUTS, FACT_SELECTOR } from '../../../collector/correlate/facts.js';
import { IncrementalCorrelator } from '../../../collector/correlate/incremental.js';
import { correlate } from '../../../collector/correlate/rules.js';
import { computeScore } from '../../../collector/correlate/score.js';
import type { IngestMessage } from '../../../collector/store/messages.js';
import { SqliteStore } from '../../../collector/store/sqlite.js';
import type { SettingRow, StoredFinding } from '../../../collector/store/types.js';
import type { ClusterSnapshot } from '../../../collector/cluster/model.js';
import { tempDir } from '../../harness/integration.js';
import { clusterRole, clusterRoleBinding, namespace, pod, sa, serviceAccount, snapshot } from '../cluster/fixtures.js';
import { finding, iso, report, T0 } from './helpers.js';

/** A small seeded PRNG (mulberry32): every run of a seed is the same sequence. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const NODES = ['cp-1', 'cp-2', 'w-1', 'w-2', 'w-3', 'w-4', 'w-5', 'etcd-9'];
const SILENT_AFTER = 60_000;

/** Every kind of input a rule reads, each with a few possible values. */
function templates(node: string, pick: <T>(xs: readonly T[]) => T): Finding[] {
  const bool = (): boolean => pick([true, false]);
  const anon = bool();
  const mode = pick(['Webhook', 'AlwaysAllow', 'Node,Webhook']);
  const pod = pick(['api', 'db', 'agent']);
  const all: Finding[] = [
    finding({ checkId: 'cis-4.2.1', cis: '4.2.1', severity: 'high', value: anon, status: anon ? 'fail' : 'pass' }),
    finding({ checkId: 'cis-4.2.2', cis: '4.2.2', severity: 'high', value: mode, status: mode.includes('AlwaysAllow') ? 'fail' : 'pass' }),
    finding({ checkId: 'cis-4.2.6', cis: '4.2.6', severity: pick(['low', 'medium']), value: pick([0, 1, 5]), status: pick(['pass', 'fail']) }),
    finding({ checkId: 'port-listener', component: 'node', severity: 'info',
      resource: { kind: 'port', protocol: 'tcp', address: pick(['0.0.0.0', '127.0.0.1', '10.0.0.4']), port: pick([10250, 2379, 8080]) } }),
    finding({ checkId: 'cis-2.2', cis: '2.2', component: 'etcd', value: bool(), status: pick(['pass', 'fail']),
      resource: { kind: 'component', component: 'etcd' } }),
    finding({ checkId: 'cis-1.1.12', component: 'etcd', resource: { kind: 'file', path: pick(['/var/lib/etcd', '/etc/kubernetes/pki/ca.key', '/tmp/x']) },
      status: pick(['pass', 'fail']) }),
    finding({ checkId: 'container-privileged', component: 'container', status: 'fail', pss: 'privileged',
      resource: { kind: 'container', id: `${pod}-priv`, namespace: 'apps', pod, container: 'c' }, evidence: { source: 'oci', key: 'privileged', value: true } }),
    finding({ checkId: 'container-kernel-drift', component: 'container', status: 'pass',
      resource: { kind: 'container', id: `${pod}-priv`, namespace: 'apps', pod, container: 'c' },
      evidence: { source: 'proc', key: 'kernel', value: { capEff: pick([['SYS_ADMIN'], ['NET_BIND_SERVICE']]), sharedWithHost: [] } } }),
    finding({ checkId: 'container-host-path', component: 'container', status: 'fail', pss: 'hostPathVolumes',
      resource: { kind: 'container', id: `${pod}-hp`, namespace: 'apps', pod, container: 'c' },
      evidence: { source: 'oci', key: 'hostPath', value: [pick(['/', '/run/containerd/containerd.sock', '/var/log'])] } }),
    finding({ checkId: 'cis-1.2.29', component: 'kube-apiserver', status: 'pass',
      resource: { kind: 'component', component: 'kube-apiserver' },
      evidence: { source: 'flag', key: '--etcd-servers', value: pick(['https://etcd-9:2379', 'https://10.9.9.9:2379', `https://${node}:2379`]) } }),
  ];
  return all.filter(() => pick([true, true, false]));
}

/** The Kubernetes API's picture: the pods the containers run in, and a ServiceAccount that may create pods (or not). */
const picture = (escalates: boolean) => snapshot({
  Namespace: [namespace('apps')],
  ServiceAccount: [serviceAccount('apps', 'deployer')],
  Pod: ['api', 'db', 'agent'].map((p) => pod('apps', p, { serviceAccountName: 'deployer' })),
  ...(escalates ? {
    ClusterRole: [clusterRole('pod-maker', [{ verbs: ['create'], resources: ['pods'] }])],
    ClusterRoleBinding: [clusterRoleBinding('deployer', 'pod-maker', [sa('apps', 'deployer')])],
  } : {}),
});

describe('incremental correlation', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = tempDir('correlate-incremental');
    store = new SqliteStore(dir.path, { synchronous: 'NORMAL' });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  /** correlate() and computeScore() over one fresh read, in the order the correlator reads its inputs. */
  async function plain(now: number, cluster?: ClusterSnapshot): Promise<unknown> {
    const byNodeThenId = (a: { node: string; id: string }, b: { node: string; id: string }): number =>
      (a.node < b.node ? -1 : a.node > b.node ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const [nodes, facts, settings, checks] = await Promise.all([
      store.allNodes(), store.facts(FACT_SELECTOR), store.settings([...FACT_INPUTS.driftResourceKinds]), store.checks()]);
    const sortedFacts = [...facts].sort((a: StoredFinding, b: StoredFinding) =>
      byNodeThenId({ node: a.node, id: a.finding.id }, { node: b.node, id: b.finding.id }));
    const sortedSettings = [...settings].sort((a: SettingRow, b: SettingRow) =>
      byNodeThenId({ node: a.node, id: a.findingId }, { node: b.node, id: b.findingId }));
    const items = correlate({ now, silentAfterMs: SILENT_AFTER, nodes, facts: sortedFacts, settings: sortedSettings,
      checkTitles: new Map(checks.map((c) => [c.checkId, c.title])), ...(cluster ? { cluster } : {}) });
    return { items, score: computeScore(nodes, checks) };
  }

  for (const [seed, withPicture] of [[1, false], [2, false], [3, false], [4, false], [5, true], [6, true], [7, true]] as const) {
    it(`gives what a full recompute gives after every report (seed ${seed}${withPicture ? ', with the API\'s picture' : ''})`, async () => {
      let current: ClusterSnapshot | undefined = withPicture ? picture(true) : undefined;
      const cluster = (): ClusterSnapshot | undefined => current;
      const random = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
      const touched = new Set<string>();
      store.observe((changes) => { for (const n of changes.nodes) touched.add(n); });
      const incremental = new IncrementalCorrelator(store, { silentAfterMs: SILENT_AFTER, headsEveryMs: 0, cluster });
      const seqs = new Map<string, number>();
      const held = new Map<string, Finding[]>();
      const roles = new Map<string, string[]>();
      let now = T0;
      let correlations = 0;
      let escalations = 0;
      await incremental.refresh(now);
      for (let step = 0; step < 60; step++) {
        now += Math.floor(random() * 20_000);
        const node = pick(NODES);
        const seq = (seqs.get(node) ?? 0) + 1;
        seqs.set(node, seq);
        if (!roles.has(node) || random() < 0.05) roles.set(node, pick([['worker'], ['control-plane', 'etcd'], ['worker']]));
        let message: IngestMessage;
        const before = held.get(node);
        if (before && random() < 0.35) {
          // A delta: one finding changes, one may go.
          const fresh = templates(node, pick);
          const upserts = fresh.slice(0, 1);
          const resolved = before.length && random() < 0.4 ? [pick(before).id] : [];
          const next = new Map(before.map((f) => [f.id, f]));
          for (const id of resolved) next.delete(id);
          for (const f of upserts) next.set(f.id, f);
          held.set(node, [...next.values()]);
          message = { kind: 'delta', node, seq, scannedAt: iso(now), upserts, resolved };
        } else {
          // A full report: new findings, or (sometimes) the same ones again, which changes only the node's last report.
          const findings = before && random() < 0.2 ? before : templates(node, pick);
          held.set(node, findings);
          message = { kind: 'full', node, seq, report: report(node, findings, { roles: roles.get(node), scannedAt: iso(now) }) };
        }
        await store.applyBatch([message], now);
        // The API's picture changes now and then (the ServiceAccount loses or gains its grant).
        if (withPicture && step % 20 === 19) current = picture(step % 40 !== 19);
        const nodes = [...touched];
        touched.clear();
        const got = await incremental.update(nodes, now);
        const full = await new IncrementalCorrelator(store, { silentAfterMs: SILENT_AFTER, cluster }).refresh(now);
        expect(got).toEqual(full);
        expect(got).toEqual(await plain(now, current));
        escalations += got.items.filter((c) => c.rule === 'privileged-pod-rbac-escalation').length;
        correlations += got.items.length;
      }
      // The sequence exercised the rules (not 60 empty results).
      expect(correlations).toBeGreaterThan(60);
      if (withPicture) expect(escalations).toBeGreaterThan(0);
    });
  }
});
