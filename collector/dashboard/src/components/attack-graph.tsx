// One attack path as a graph: the node (or the pod on it) → each finding the path rests on → what it reaches.
// Hand-laid SVG (three columns): a path has a handful of steps, which a graph library would only make heavier.
import type { JSX } from 'preact';
import { formatValue } from '../format.js';
import { nodeHref } from '../router.js';
import type { Correlation } from '../types.js';

const W = 1000;
const COL = { node: { x: 8, w: 220 }, step: { x: 326, w: 330 }, impact: { x: 744, w: 248 } };
/** Characters per line that fit a box at the graph's font sizes (bold 14px ≈ 8.2px, mono 12px ≈ 7.3px a character). */
const fit = (width: number, px: number): number => Math.floor((width - 2 * PAD) / px);
const LINE = 17;
const PAD = 12;
const GAP = 14;

/** Splits text into at most `lines` lines of about `chars` characters, at spaces where it can. */
function wrap(text: string, chars: number, lines: number): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest && out.length < lines) {
    if (rest.length <= chars) { out.push(rest); rest = ''; break; }
    let cut = rest.lastIndexOf(' ', chars);
    if (cut < chars * 0.5) cut = chars;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest && out.length) out[out.length - 1] = `${out[out.length - 1].slice(0, chars - 1)}…`;
  return out;
}

/** One line, cut in the middle when too long (a path keeps its start and its file name). */
function cutMiddle(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const head = Math.ceil((chars - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (chars - 1 - head))}`;
}

/** The subject after `|` in an attack-path id (`attack-path:pod-node-takeover:worker-1|ci/runner` → ci/runner). */
const pathSubject = (c: Correlation): string | undefined => (c.id.includes('|') ? c.id.slice(c.id.indexOf('|') + 1) : undefined);

export function impactOf(c: Correlation): string {
  const node = c.nodes[0] ?? 'the node';
  const pod = pathSubject(c);
  switch (c.rule) {
    case 'kubelet-unauthenticated-exec': return `Anyone who reaches the kubelet runs commands in every pod on ${node}`;
    case 'etcd-secrets-readable': return 'Every Secret of the cluster, read straight from etcd';
    case 'pod-node-takeover': return `Root on ${node}${pod ? ` from pod ${pod}` : ''}: the container runtime obeys the pod`;
    case 'host-root-secrets': return `Cluster secrets (etcd data, control-plane keys) read from pod ${pod ?? 'on the node'}`;
    // Paths that join the node's facts with the Kubernetes API's (RBAC, NetworkPolicies): evidence on node `cluster`.
    case 'privileged-pod-rbac-escalation': return `Root on ${node} from pod ${pod ?? '?'}, then beyond it: its ServiceAccount token creates pods, binds roles or reads Secrets`;
    case 'exposed-pod-port-no-network-policy': return `Pod ${pod ?? '?'} reachable by anything that reaches ${node}: no NetworkPolicy in its namespace`;
    case 'secret-env-broad-secret-readers': return `The secret in pod ${pod ?? '?'}'s environment, and every Secret of its namespace, to many subjects`;
    default: return c.title;
  }
}

interface Box { x: number; y: number; w: number; h: number }

function TextLines({ lines, x, y, cls }: { lines: string[]; x: number; y: number; cls: string }): JSX.Element {
  return (
    <text class={cls} x={x} y={y}>
      {lines.map((l, i) => <tspan key={i} x={x} dy={i === 0 ? 0 : LINE}>{l}</tspan>)}
    </text>
  );
}

const edge = (a: Box, b: Box): string => {
  const x1 = a.x + a.w; const y1 = a.y + a.h / 2; const x2 = b.x - 6; const y2 = b.y + b.h / 2;
  const mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
};

export function AttackGraph({ c, titles, index }: { c: Correlation; titles: Map<string, string>; index: number }): JSX.Element {
  const node = c.nodes[0] ?? '?';
  const pod = pathSubject(c);
  const steps = c.evidence.map((e) => {
    const title = wrap(titles.get(e.checkId) ?? e.checkId, fit(COL.step.w, 8.6), 2);
    const value = e.value === undefined ? [] : [cutMiddle(`= ${formatValue(e.value)}`, fit(COL.step.w, 7.3))];
    return { e, title, value, h: PAD * 2 + (1 + title.length + value.length) * LINE };
  });
  const stepsHeight = steps.reduce((n, s) => n + s.h, 0) + GAP * Math.max(0, steps.length - 1);
  const impactLines = wrap(impactOf(c), fit(COL.impact.w, 8.8), 5);
  const impactH = PAD * 2 + (impactLines.length + 1) * LINE;
  const nodeLines = [...wrap(node, fit(COL.node.w, 8.8), 2), ...(pod ? [cutMiddle(`pod ${pod}`, fit(COL.node.w, 8.8))] : [])];
  const nodeH = PAD * 2 + (nodeLines.length + 1) * LINE;
  const H = Math.max(stepsHeight, impactH, nodeH) + 16;

  const nodeBox: Box = { x: COL.node.x, y: (H - nodeH) / 2, w: COL.node.w, h: nodeH };
  const impactBox: Box = { x: COL.impact.x, y: (H - impactH) / 2, w: COL.impact.w, h: impactH };
  let y = (H - stepsHeight) / 2;
  const stepBoxes = steps.map((s) => {
    const b: Box = { x: COL.step.x, y, w: COL.step.w, h: s.h };
    y += s.h + GAP;
    return b;
  });
  const arrow = `arrow-${index}`;
  const titleId = `ap-${index}-title`;

  return (
    <svg class="attack-graph" viewBox={`0 0 ${W} ${H}`} role="group" aria-labelledby={titleId}>
      <title id={titleId}>{`Attack path: ${c.title}`}</title>
      <defs>
        <marker id={arrow} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
        </marker>
      </defs>
      {stepBoxes.map((b, i) => <path key={`in${i}`} class="edge" d={edge(nodeBox, b)} marker-end={`url(#${arrow})`} />)}
      {stepBoxes.map((b, i) => <path key={`out${i}`} class="edge" d={edge(b, impactBox)} marker-end={`url(#${arrow})`} />)}

      <a href={nodeHref(node)} class="gnode">
        <rect class="box box-node" x={nodeBox.x} y={nodeBox.y} width={nodeBox.w} height={nodeBox.h} rx="8" />
        <TextLines cls="g-kicker" lines={[pod ? 'From a pod on' : 'Node']} x={nodeBox.x + PAD} y={nodeBox.y + PAD + 12} />
        <TextLines cls="g-title" lines={nodeLines} x={nodeBox.x + PAD} y={nodeBox.y + PAD + 12 + LINE} />
      </a>

      {steps.map((s, i) => {
        const b = stepBoxes[i];
        const weak = s.e.status === 'fail';
        const mark = weak ? '✕ Fail' : s.e.status === 'warn' ? '! Warn' : 'Condition';
        return (
          <a key={s.e.findingId + i} href={nodeHref(s.e.node, s.e.findingId)} class="gnode">
            <rect class={`box ${weak ? 'box-weak' : 'box-fact'}`} x={b.x} y={b.y} width={b.w} height={b.h} rx="8" />
            <TextLines cls={`g-kicker ${weak ? 'weak' : ''}`} lines={[cutMiddle(`${mark} · ${s.e.checkId}`, fit(b.w, 7.5))]} x={b.x + PAD} y={b.y + PAD + 12} />
            <TextLines cls="g-title" lines={s.title} x={b.x + PAD} y={b.y + PAD + 12 + LINE} />
            <TextLines cls="g-meta" lines={s.value} x={b.x + PAD} y={b.y + PAD + 12 + (1 + s.title.length) * LINE} />
          </a>
        );
      })}

      <g>
        <rect class="box box-impact" x={impactBox.x} y={impactBox.y} width={impactBox.w} height={impactBox.h} rx="8" />
        <TextLines cls="g-kicker impact" lines={['▲ Reaches']} x={impactBox.x + PAD} y={impactBox.y + PAD + 12} />
        <TextLines cls="g-title" lines={impactLines} x={impactBox.x + PAD} y={impactBox.y + PAD + 12 + LINE} />
      </g>
    </svg>
  );
}
