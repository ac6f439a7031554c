// Overview: the score, failing findings by severity, the trend, every node coloured by its worst open failure,
// the correlations that need attention and what changed in the last hour.
import type { JSX } from 'preact';
import { get, hasRoute } from '../api.js';
import { useData } from '../data.js';
import { compareCis, compareNames, fmtAgo, fmtNumber, fmtPercent, SEVERITY_LABEL, SEVERITY_ORDER, worstSeverity } from '../format.js';
import { href, nodeHref } from '../router.js';
import type { Change, ClusterSummary, Correlations, NodeItem, Page, Severity, StoredFinding, Trend } from '../types.js';
import { TrendChart } from '../components/trend.js';
import { Empty, Panel, SeverityBadge, SeverityGlyph, Show, StatusBadge, Time } from '../components/ui.js';

const NODE_PAGE = 5000;
/** Beyond this many nodes the grid shows small tiles (name on hover and to screen readers). */
const COMPACT_GRID = 120;

interface NodeTile extends NodeItem { worst: Severity | null; worstKnown: boolean }

/** Every node (following the cursor), each with its worst open failure. */
async function loadNodeTiles(signal: AbortSignal): Promise<NodeTile[]> {
  const nodes: NodeItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await get<Page<NodeItem>>('/api/v1/nodes', { limit: NODE_PAGE, cursor }, undefined, signal);
    nodes.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && nodes.length < 50_000);
  if (nodes.every((n) => n.failingBySeverity)) {
    return nodes.map((n) => ({ ...n, worst: worstSeverity(n.failingBySeverity), worstKnown: true }));
  }
  // Older collectors give no severities per node: one page of failures, most severe first, names the worst
  // failure of each node on it; a failing node not on it is shown as failing of unknown severity.
  const failures = await get<Page<StoredFinding>>('/api/v1/findings', { status: 'fail', sort: 'severity', limit: 1000 }, undefined, signal);
  const worst = new Map<string, Severity>();
  for (const f of failures.items) if (!worst.has(f.node)) worst.set(f.node, f.severity);
  return nodes.map((n) => ({ ...n, worst: worst.get(n.name) ?? null, worstKnown: n.summary.fail === 0 || worst.has(n.name) }));
}

function ScoreCards({ s }: { s: ClusterSummary }): JSX.Element {
  const failing = SEVERITY_ORDER.reduce((n, sev) => n + s.findings.failingBySeverity[sev], 0);
  const rate = s.score.cluster.rate;
  return (
    <div class="cards">
      <div class="card score">
        <p class="card-label">Cluster score</p>
        <p class="card-value" data-testid="cluster-score">{fmtPercent(rate)}</p>
        <div class="meter" role="meter" aria-label="Pass rate" aria-valuemin={0} aria-valuemax={100} aria-valuenow={rate === null ? 0 : Math.round(rate * 100)}>
          <span class="meter-fill" style={{ width: `${(rate ?? 0) * 100}%` }} />
        </div>
        <p class="card-foot">{fmtNumber(s.score.cluster.pass)} pass · {fmtNumber(s.score.cluster.fail)} fail · {fmtNumber(s.score.cluster.warn)} warn</p>
      </div>
      <div class="card failing">
        <p class="card-label">Failing findings</p>
        <p class="card-value"><a href={href('/findings', { status: 'fail' })} data-testid="failing-count">{fmtNumber(failing)}</a></p>
        <SeverityBar s={s} />
        <ul class="sev-list" aria-label="Failing findings by severity">
          {SEVERITY_ORDER.map((sev) => (
            <li key={sev}>
              <a href={href('/findings', { status: 'fail', severity: sev })} class={s.findings.failingBySeverity[sev] ? '' : 'zero'}>
                <SeverityBadge severity={sev} count={s.findings.failingBySeverity[sev]} />
              </a>
            </li>
          ))}
        </ul>
      </div>
      <div class="card">
        <p class="card-label">Nodes</p>
        <p class="card-value">{fmtNumber(s.nodes.total)}</p>
        <p class="card-foot">{fmtNumber(s.nodes.reporting)} reporting · <span class={s.nodes.silent ? 'warn-text' : ''}>{fmtNumber(s.nodes.silent)} silent</span></p>
      </div>
      <div class="card">
        <p class="card-label">Correlations</p>
        <ul class="plain corr-counts">
          <li><a href="#/attack-paths"><b>{fmtNumber(s.correlations['attack-path'] ?? 0)}</b> attack paths</a></li>
          <li><a href="#/drift"><b>{fmtNumber(s.correlations.drift ?? 0)}</b> drifted settings</a></li>
          <li><b>{fmtNumber(s.correlations.coverage ?? 0)}</b> coverage gaps</li>
        </ul>
      </div>
    </div>
  );
}

function SeverityBar({ s }: { s: ClusterSummary }): JSX.Element | null {
  const total = SEVERITY_ORDER.reduce((n, sev) => n + s.findings.failingBySeverity[sev], 0);
  if (total === 0) return null;
  return (
    <div class="sevbar" aria-hidden="true">
      {SEVERITY_ORDER.filter((sev) => s.findings.failingBySeverity[sev] > 0).map((sev) => (
        <span key={sev} class={`sevbar-seg sev-bg-${sev}`} style={{ flexGrow: s.findings.failingBySeverity[sev] }}
          title={`${SEVERITY_LABEL[sev]}: ${s.findings.failingBySeverity[sev]}`} />
      ))}
    </div>
  );
}

function NodeGrid({ tiles }: { tiles: NodeTile[] }): JSX.Element {
  if (tiles.length === 0) {
    return <Empty title="No node has reported yet">Agents post their first report within seconds of starting; see the README for <code>vigil-agent run</code>.</Empty>;
  }
  const compact = tiles.length > COMPACT_GRID;
  const order = (t: NodeTile): number => (t.worst ? SEVERITY_ORDER.indexOf(t.worst) : t.summary.fail > 0 ? 5 : 6);
  const sorted = [...tiles].sort((a, b) => order(a) - order(b) || compareNames(a.name, b.name));
  return (
    <>
      <ul class="legend" aria-label="Legend">
        {SEVERITY_ORDER.map((s) => <li key={s}><span class={`swatch sev-bg-${s}`} aria-hidden="true" /><SeverityGlyph severity={s} /> {SEVERITY_LABEL[s]}</li>)}
        <li><span class="swatch tile-ok" aria-hidden="true" />✓ No failure</li>
        <li><span class="swatch tile-silent" aria-hidden="true" />◌ Silent</li>
      </ul>
      <ul class={`node-grid ${compact ? 'compact' : ''}`} data-testid="node-grid">
        {sorted.map((t) => {
          const tone = t.worst ? `sev-bg-${t.worst}` : t.summary.fail > 0 ? 'tile-fail' : 'tile-ok';
          const label = `${t.name}: ${t.summary.fail} failing${t.worst ? `, worst ${t.worst}` : ''}${t.status === 'silent' ? ', silent' : ''}`;
          return (
            <li key={t.name}>
              <a href={nodeHref(t.name)} class={`tile ${tone} ${t.status === 'silent' ? 'silent' : ''}`} aria-label={compact ? label : undefined} title={label}>
                {compact ? null : (
                  <>
                    <span class="tile-name">{t.name}</span>
                    <span class="tile-meta">{t.roles.join(', ') || 'no role'}</span>
                    <span class="tile-count">
                      {t.worst ? <SeverityGlyph severity={t.worst} /> : t.summary.fail ? '✕' : '✓'} {t.summary.fail ? `${fmtNumber(t.summary.fail)} failing` : 'no failure'}
                      {t.status === 'silent' ? ' · silent' : ''}
                    </span>
                  </>
                )}
              </a>
            </li>
          );
        })}
      </ul>
    </>
  );
}

async function loadChanges(signal: AbortSignal): Promise<Change[]> {
  if (await hasRoute('/api/v1/changes')) {
    return (await get<Page<Change>>('/api/v1/changes', { since: '1h', limit: 25 }, undefined, signal)).items;
  }
  // Without the change feed: findings that are new or changed in the hour (resolutions are not listed).
  const page = await get<Page<StoredFinding>>('/api/v1/findings', { since: '1h', sort: 'recent', limit: 25 }, undefined, signal);
  return page.items.map((f) => ({
    at: f.changedAt, node: f.node, findingId: f.id, checkId: f.checkId, event: f.firstSeen === f.changedAt ? 'new' : 'changed',
    status: f.status, severity: f.severity, title: f.title, component: f.component,
  }));
}

const CHANGES_SHOWN = 12;

function Changes({ items: all }: { items: Change[] }): JSX.Element {
  // A check that is new and passes (a node's first report) is not a change in posture.
  const items = all.filter((c) => !(c.event === 'new' && c.status === 'pass'));
  if (items.length === 0) return <Empty title="Nothing changed in the last hour">New failures, changes and resolutions appear here as agents report them.</Empty>;
  return (
    <>
    <ol class="changes">
      {items.slice(0, CHANGES_SHOWN).map((c) => (
        <li key={`${c.node}-${c.findingId}-${c.at}-${c.event}`}>
          <StatusBadge status={c.status} />
          <span class="change-main">
            <a href={nodeHref(c.node, c.findingId)}>{c.title}</a>
            <span class="sub"><span class="event">{c.event}</span> on <b>{c.node}</b> · <SeverityGlyph severity={c.severity} /> {c.severity}</span>
          </span>
          <Time iso={c.at} relative={fmtAgo(c.at)} />
        </li>
      ))}
    </ol>
    <p class="more"><a href={href('/findings', { since: '1h', sort: 'recent' })}>Every finding changed in the last hour →</a></p>
    </>
  );
}

function Attention({ data }: { data: Correlations }): JSX.Element {
  const items = data.items.filter((c) => c.kind !== 'drift').slice(0, 6);
  if (items.length === 0) return <Empty title="No attack path, no coverage gap">The collector correlates findings across nodes after every report.</Empty>;
  return (
    <ul class="attention">
      {items.map((c) => (
        <li key={c.id}>
          <SeverityBadge severity={c.severity} />
          <a href={c.kind === 'attack-path' ? `#/attack-paths?id=${encodeURIComponent(c.id)}` : nodeHref(c.nodes[0] ?? '')}>{c.title}</a>
          <span class="kind">{c.kind}</span>
        </li>
      ))}
    </ul>
  );
}

function ComponentScores({ s }: { s: ClusterSummary }): JSX.Element {
  const rows = Object.entries(s.score.components).sort(([, a], [, b]) => (a.rate ?? 1) - (b.rate ?? 1));
  if (rows.length === 0) return <Empty title="Nothing judged yet" />;
  return (
    <table class="compact-table">
      <caption class="sr-only">Pass rate by component</caption>
      <thead><tr><th scope="col">Component</th><th scope="col" class="num">Fail</th><th scope="col" class="num">Pass rate</th></tr></thead>
      <tbody>
        {rows.map(([name, r]) => (
          <tr key={name}>
            <td><a href={href('/findings', { component: name, status: 'fail' })}>{name}</a></td>
            <td class="num">{fmtNumber(r.fail)}</td>
            <td class="num"><span class="ratebar"><span class="ratebar-fill" style={{ width: `${(r.rate ?? 0) * 100}%` }} /></span>{fmtPercent(r.rate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Overview(): JSX.Element {
  const summary = useData((sig) => get<ClusterSummary>('/api/v1/summary', {}, undefined, sig), ['summary']);
  const tiles = useData(loadNodeTiles, ['tiles']);
  const trend = useData((sig) => get<Trend>('/api/v1/trend', { since: '30d' }, undefined, sig), ['trend']);
  const changes = useData(loadChanges, ['changes']);
  const corr = useData((sig) => get<Correlations>('/api/v1/correlations', { limit: 50 }, undefined, sig), ['corr']);

  return (
    <div class="page overview">
      <div class="page-head">
        <h1>Cluster overview</h1>
        {summary.state === 'ok' ? <p class="page-sub">Computed <Time iso={summary.data.computedAt} relative={fmtAgo(summary.data.computedAt)} /></p> : null}
      </div>
      <Show data={summary} loading="Loading the summary">{(s) => <ScoreCards s={s} />}</Show>
      <div class="grid-2">
        <Panel id="trend" title="Open failures, last 30 days" class="span-2">
          <Show data={trend}>{(t) => (t.points.length < 2
            ? <Empty title="Not enough history yet">The collector records the counts every hour; the line starts after two hours.</Empty>
            : <TrendChart trend={t} />)}</Show>
        </Panel>
        <Panel id="nodes" title={tiles.state === 'ok' ? `Nodes (${fmtNumber(tiles.data.length)})` : 'Nodes'} class="span-2">
          <Show data={tiles} loading="Loading nodes">{(t) => <NodeGrid tiles={t} />}</Show>
        </Panel>
        <Panel id="attention" title="Needs attention">
          <Show data={corr}>{(c) => <Attention data={c} />}</Show>
        </Panel>
        <Panel id="changes" title="Changed in the last hour">
          <Show data={changes}>{(c) => <Changes items={c} />}</Show>
        </Panel>
        <Panel id="components" title="Pass rate by component">
          <Show data={summary}>{(s) => <ComponentScores s={s} />}</Show>
        </Panel>
        <Panel id="sections" title="CIS sections">
          <Show data={summary}>{(s) => <SectionScores s={s} />}</Show>
        </Panel>
      </div>
    </div>
  );
}

function SectionScores({ s }: { s: ClusterSummary }): JSX.Element {
  const rows = Object.entries(s.score.sections).sort(([a], [b]) => compareCis(a, b));
  if (rows.length === 0) return <Empty title="No CIS check judged yet" />;
  return (
    <table class="compact-table">
      <caption class="sr-only">Pass rate by CIS section</caption>
      <thead><tr><th scope="col">Section</th><th scope="col" class="num">Fail</th><th scope="col" class="num">Pass rate</th></tr></thead>
      <tbody>
        {rows.map(([name, r]) => (
          <tr key={name}>
            <td><a href={href('/findings', { cis: name })}>CIS {name}</a></td>
            <td class="num">{fmtNumber(r.fail)}</td>
            <td class="num"><span class="ratebar"><span class="ratebar-fill" style={{ width: `${(r.rate ?? 0) * 100}%` }} /></span>{fmtPercent(r.rate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

