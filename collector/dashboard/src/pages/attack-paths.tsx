// Attack paths: each correlation the collector found, drawn as node → weakness → what it reaches, with the same
// steps as a list for screen readers and for copying into a ticket.
import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { get } from '../api.js';
import { useData } from '../data.js';
import { formatValue, fmtAgo } from '../format.js';
import { nodeHref, type Route } from '../router.js';
import type { CheckItem, Correlations } from '../types.js';
import { AttackGraph, impactOf } from '../components/attack-graph.js';
import { Empty, SeverityBadge, Show, StatusBadge, Time } from '../components/ui.js';

export function AttackPaths({ route }: { route: Route }): JSX.Element {
  const focus = route.params.get('id');
  const data = useData(async (sig) => {
    const [corr, checks] = await Promise.all([
      get<Correlations>('/api/v1/correlations', { kind: 'attack-path', limit: 10_000 }, undefined, sig),
      get<{ items: CheckItem[] }>('/api/v1/checks', {}, undefined, sig),
    ]);
    return { corr, titles: new Map(checks.items.map((c) => [c.checkId, c.title])) };
  }, ['attack-paths']);

  useEffect(() => {
    if (focus && data.state === 'ok') document.getElementById(`path-${focus}`)?.scrollIntoView({ block: 'start' });
  }, [focus, data.state]);

  return (
    <div class="page attack-page">
      <div class="page-head">
        <h1>Attack paths</h1>
        <p class="page-sub">Weaknesses that are harmless alone and dangerous together, found across the findings of every node.
          {data.state === 'ok' ? <> Computed <Time iso={data.data.corr.computedAt} relative={fmtAgo(data.data.corr.computedAt)} />.</> : null}</p>
      </div>
      <Show data={data} loading="Loading attack paths">{({ corr, titles }) => (corr.items.length === 0
        ? <Empty title="No attack path found">None of the combinations the collector knows (kubelet exec, readable etcd, pod → node takeover, host root with cluster secrets) holds today.</Empty>
        : (
          <ol class="paths">
            {corr.items.map((c, i) => (
              <li key={c.id} id={`path-${c.id}`} class={`path-card ${focus === c.id ? 'focused' : ''}`} tabIndex={-1}>
                <header class="path-head">
                  <SeverityBadge severity={c.severity} />
                  <h2>{c.title}</h2>
                </header>
                <AttackGraph c={c} titles={titles} index={i} />
                <details class="steps">
                  <summary>Steps as text</summary>
                  <ol>
                    <li>Node <a href={nodeHref(c.nodes[0] ?? '')}>{c.nodes.join(', ')}</a></li>
                    {c.evidence.map((e) => (
                      <li key={e.findingId}>
                        {e.status ? <StatusBadge status={e.status as 'fail'} /> : null}{' '}
                        <a href={nodeHref(e.node, e.findingId)}>{titles.get(e.checkId) ?? e.checkId}</a>
                        {e.value !== undefined ? <> = <code>{formatValue(e.value)}</code></> : null} <span class="muted">({e.checkId} on {e.node})</span>
                      </li>
                    ))}
                    <li>Reaches: {impactOf(c)}</li>
                  </ol>
                  {c.detail ? <p class="muted">{c.detail}</p> : null}
                </details>
              </li>
            ))}
          </ol>
        ))}</Show>
    </div>
  );
}
