// The dashboard's attack-path graph draws the paths that join node and API findings: the pod on its node, the
// agent's findings and the cluster's (node `cluster`, linked to its page), and what the path reaches. Rendered
// to preact's virtual DOM (no browser needed for what the boxes say and where they link).
import { beforeAll, expect, it } from 'vitest';
import type { VNode } from 'preact';
import type { Correlation } from '../../../collector/correlate/types.js';

// The dashboard is TSX under its own tsconfig: loaded through vite (which compiles it), not seen by the root tsc.
interface GraphModule {
  AttackGraph(props: { c: Correlation; titles: Map<string, string>; index: number }): unknown;
  impactOf(c: Correlation): string;
}
const GRAPH = '../../../collector/dashboard/src/components/attack-graph.tsx';
let AttackGraph: GraphModule['AttackGraph'];
let impactOf: GraphModule['impactOf'];
beforeAll(async () => {
  ({ AttackGraph, impactOf } = (await import(/* @vite-ignore */ GRAPH)) as GraphModule);
});

/** Every text and every href in a rendered tree, calling function components on the way. */
function walk(node: unknown, out: { text: string[]; hrefs: string[] }): void {
  if (node === null || node === undefined || typeof node === 'boolean') return;
  if (typeof node === 'string' || typeof node === 'number') { out.text.push(String(node)); return; }
  if (Array.isArray(node)) { for (const n of node) walk(n, out); return; }
  const v = node as VNode<Record<string, unknown>>;
  if (typeof v.type === 'function') { walk((v.type as (p: unknown) => unknown)(v.props), out); return; }
  if (typeof v.props?.href === 'string') out.hrefs.push(v.props.href);
  walk(v.props?.children, out);
}

const path = {
  id: 'attack-path:privileged-pod-rbac-escalation:worker-1|team-a/node-agent',
  kind: 'attack-path', rule: 'privileged-pod-rbac-escalation', severity: 'critical', nodes: ['worker-1'],
  title: 'Pod team-a/node-agent on worker-1 runs privileged (kernel-verified) with the token of ServiceAccount node-agent, which can create pods',
  evidence: [
    { node: 'worker-1', findingId: 'container-privileged:1', checkId: 'container-privileged', status: 'fail', value: true },
    { node: 'worker-1', findingId: 'container-kernel-drift:2', checkId: 'container-kernel-drift', status: 'pass' },
    { node: 'cluster', findingId: 'cis-5.1.4:3', checkId: 'cis-5.1.4', status: 'fail', value: 'ServiceAccount team-a/node-agent: ClusterRoleBinding x → ClusterRole pod-maker' },
  ],
} as unknown as Correlation;

it('draws a node + API path: the pod on its node, both sides\' findings, and what it reaches', () => {
  const titles = new Map([['cis-5.1.4', 'Access to create pods is minimized'], ['container-privileged', 'Container is not privileged']]);
  const out = { text: [] as string[], hrefs: [] as string[] };
  walk(AttackGraph({ c: path, titles, index: 0 }), out);
  const text = out.text.join(' ');
  expect(text).toContain('pod team-a/node-agent');
  expect(text).toContain('Access to create pods is minimized');
  expect(text).toContain('✕ Fail · cis-5.1.4');
  expect(text).toContain('Root on worker-1 from pod team-a/node-agent');
  expect(out.hrefs).toContain('#/nodes/cluster?finding=cis-5.1.4%3A3');
  expect(out.hrefs).toContain('#/nodes/worker-1?finding=container-privileged%3A1');
});

it('says what each new path reaches', () => {
  for (const rule of ['privileged-pod-rbac-escalation', 'exposed-pod-port-no-network-policy', 'secret-env-broad-secret-readers']) {
    const impact = impactOf({ ...path, rule, id: `attack-path:${rule}:worker-1|ns/p` });
    expect(impact, rule).toContain('ns/p');
    expect(impact, rule).not.toBe(path.title);
  }
});
