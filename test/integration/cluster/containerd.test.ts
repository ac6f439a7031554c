// Node truth joined with API truth. Real containerd + runc run two pods; the real agent scan (gather → container and
// port checks) reads what the kernel gives them and reports it to a real collector as node worker-1. The
// collector reads RBAC, pods and NetworkPolicies from a STAND-IN Kubernetes API (no kube-apiserver can run here:
// test/harness/kube-api.ts answers client-node's list and watch requests from the objects written below). The
// attack paths must join the two, point at both sides' findings, and follow RBAC changes as watch events arrive.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding, NodeReport } from '../../../proto/report.js';
import { gatherSnapshot } from '../../../agent/gather/index.js';
import { containersChecks } from '../../../agent/evaluate/checks/containers/index.js';
import { portsChecks } from '../../../agent/evaluate/checks/ports.js';
import { buildReport } from '../../../agent/scan.js';
import { containerdBinaries, containerdLogTail, startContainerd, type ContainerdHarness } from '../../harness/containerd.js';
import { describeWithDaemons, freePort } from '../../harness/integration.js';
import type { StandInKind } from '../../harness/kube-api.js';
import {
  BOOTSTRAP, clusterRole, clusterRoleBinding, group, namespace, pod, roleBinding, sa, serviceAccount, type RawObjects,
} from '../../unit/cluster/fixtures.js';
import { eventually, startClusterCollector, type ClusterCollector } from './harness.js';

const NODE = 'worker-1';
const hostNamespaces = { network: 'NODE', pid: 'NODE', ipc: 'NODE' };

describeWithDaemons('real containerd pods joined with RBAC from the (stand-in) API', containerdBinaries(), () => {
  let h: ContainerdHarness;
  let c: ClusterCollector;
  let report: NodeReport;
  let port: number;

  const api: () => RawObjects = () => ({
    Namespace: [namespace('team-a'), namespace('team-b')],
    ServiceAccount: [serviceAccount('team-a', 'node-agent'), serviceAccount('team-b', 'default', false)],
    ClusterRole: [
      ...BOOTSTRAP.ClusterRole!,
      clusterRole('pod-maker', [{ verbs: ['create', 'delete'], resources: ['pods'] }]),
      clusterRole('secret-reader', [{ verbs: ['get', 'list'], resources: ['secrets'] }]),
    ],
    ClusterRoleBinding: [...BOOTSTRAP.ClusterRoleBinding!, clusterRoleBinding('node-agent-pods', 'pod-maker', [sa('team-a', 'node-agent')])],
    RoleBinding: [roleBinding('team-b', 'every-sa-reads-secrets', { kind: 'ClusterRole', name: 'secret-reader' }, [group('system:serviceaccounts:team-b')])],
    Pod: [
      pod('team-a', 'node-agent', { serviceAccountName: 'node-agent', nodeName: NODE, hostNetwork: true,
        containers: [{ name: 'agent', image: 'busybox', securityContext: { privileged: true } }] }),
      // The spec declares no env: DB_PASSWORD comes from somewhere else (the image, the runtime) and only the node sees it.
      pod('team-b', 'api', { nodeName: NODE, containers: [{ name: 'api', image: 'busybox' }] }),
    ],
  });

  beforeAll(async () => {
    port = await freePort();
    h = await startContainerd();
    try {
      await h.runPod('node-agent', 'team-a', {
        sandbox: { linux: { security_context: { privileged: true, namespace_options: hostNamespaces } } },
        containers: [{
          metadata: { name: 'agent' },
          command: ['/bin/nc', '-l', '-p', String(port)],
          linux: { security_context: { privileged: true, namespace_options: hostNamespaces } },
        }],
      });
      await h.runPod('api', 'team-b', {
        sandbox: { linux: { security_context: {} } },
        containers: [{ metadata: { name: 'api' }, command: ['/bin/sleep', '3600'], envs: [{ key: 'DB_PASSWORD', value: 'not-a-real-password-1c9e' }] }],
      });
    } catch (err) {
      const tail = containerdLogTail(h);
      await h.stop();
      throw new Error(`${(err as Error).message}\ncontainerd log:\n${tail}`);
    }
    // The agent's scan, as `vigil-agent scan` makes it, restricted to the container and port checks.
    const snapshot = await gatherSnapshot({ hostRoot: '/', procRoot: '/proc', containerdStateDir: h.state, criSocket: h.socket, nodeName: NODE });
    report = buildReport(snapshot, [...containersChecks, ...portsChecks]);

    c = await startClusterCollector({ before: (stand) => {
      for (const [kind, list] of Object.entries(api())) for (const o of list ?? []) stand.apply(kind as StandInKind, o as never);
    } });
    await c.settled();
    expect((await c.post('/api/v1/reports', report)).status).toBe(200);
  }, 240_000);

  afterAll(async () => {
    await c?.stop();
    await h?.stop();
  }, 120_000);

  const agentFinding = (checkId: string, podName: string): Finding => report.findings.find((f) =>
    f.checkId === checkId && (f.resource as { pod?: string }).pod === podName)!;
  const attackPaths = async () => (await c.get('/api/v1/correlations?kind=attack-path')).body.items as any[];
  const clusterFindingIds = async () => new Set(((await c.get('/api/v1/findings?node=cluster&limit=1000')).body.items as any[]).map((f) => f.id));

  it('the agent reports what the kernel gave the privileged pod and the names in the other\'s environment', () => {
    expect(agentFinding('container-privileged', 'node-agent').status).toBe('fail');
    const kernel = agentFinding('container-kernel-drift', 'node-agent').evidence.value as { capEff: string[]; sharedWithHost: string[] };
    expect(kernel.capEff).toContain('SYS_ADMIN');
    expect(kernel.sharedWithHost).toEqual(expect.arrayContaining(['pid', 'net']));
    expect(agentFinding('container-secret-env', 'api').evidence.value).toEqual(['DB_PASSWORD']);
    expect(report.findings.some((f) => f.resource.kind === 'port' && f.resource.port === port
      && (f.resource as { container?: string }).container === 'team-a/node-agent/agent')).toBe(true);
    expect(JSON.stringify(report)).not.toContain('not-a-real-password-1c9e');
  });

  it('draws the privileged-pod path: kernel-verified privilege + a ServiceAccount that can create pods', async () => {
    const path = await eventually('privileged path', async () =>
      (await attackPaths()).find((p) => p.rule === 'privileged-pod-rbac-escalation'));
    expect(path).toMatchObject({ id: `attack-path:privileged-pod-rbac-escalation:${NODE}|team-a/node-agent`, severity: 'critical', nodes: [NODE] });
    expect(path.title).toBe("Pod team-a/node-agent on worker-1 runs privileged and in the host's ipc, net, pid namespaces (kernel-verified) "
      + 'with the token of ServiceAccount node-agent, which can create pods (and run them as any ServiceAccount of the namespace)');
    const agentIds = path.evidence.filter((e: any) => e.node === NODE).map((e: any) => e.findingId);
    expect(agentIds).toEqual(expect.arrayContaining([agentFinding('container-privileged', 'node-agent').id, agentFinding('container-kernel-drift', 'node-agent').id]));
    // Every piece of evidence on the cluster side is a finding the store holds.
    const held = await clusterFindingIds();
    const clusterSide = path.evidence.filter((e: any) => e.node === 'cluster');
    expect(clusterSide.map((e: any) => e.checkId).sort()).toEqual(['cis-5.1.4', 'cis-5.1.6']);
    for (const e of clusterSide) expect(held.has(e.findingId), e.checkId).toBe(true);
  });

  it('draws the exposed-port path: a hostNetwork listener in a namespace without NetworkPolicy', async () => {
    const path = (await attackPaths()).find((p) => p.rule === 'exposed-pod-port-no-network-policy');
    // busybox nc listens on every address: 0.0.0.0, or :: (dual stack).
    expect(path.title).toMatch(new RegExp(`^Pod team-a/node-agent listens on node ${NODE} \\((0\\.0\\.0\\.0|::):${port}\\) and namespace team-a has no NetworkPolicy$`));
    expect((await clusterFindingIds()).has(path.evidence.find((e: any) => e.checkId === 'cis-5.3.2').findingId)).toBe(true);
  });

  it('draws the secret-env path and joins the node\'s view into 5.4.1', async () => {
    const path = (await attackPaths()).find((p) => p.rule === 'secret-env-broad-secret-readers');
    expect(path.title).toBe(`Pod team-b/api on ${NODE} runs with DB_PASSWORD in its environment, and Group system:serviceaccounts:team-b (every ServiceAccount in team-b) may read the Secrets of team-b`);
    const joined = await eventually('5.4.1 joined', async () =>
      ((await c.get('/api/v1/findings?node=cluster&check=cis-5.4.1&status=fail')).body.items as any[])
        .find((f) => f.resource.name === 'api'));
    expect(joined.evidence).toMatchObject({ source: 'kubernetes-api+agent', value: { notInSpec: ['DB_PASSWORD'] } });
    expect(joined.title).toContain(`seen on ${NODE}`);
    expect(path.evidence.map((e: any) => e.findingId)).toContain(joined.id);
  });

  it('follows RBAC: removing the binding (a watch event) ends the privileged-pod path', async () => {
    c.api.remove('ClusterRoleBinding', 'node-agent-pods');
    await eventually('path gone', async () => !(await attackPaths()).some((p) => p.rule === 'privileged-pod-rbac-escalation'));
    expect((await attackPaths()).some((p) => p.rule === 'exposed-pod-port-no-network-policy')).toBe(true);
  });
}, { needsRoot: true });
