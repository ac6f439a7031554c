// One node: who it is and when it last reported, its findings grouped by component (failures first, evidence
// inline), its sensitive-file changes, the correlations it is part of, and its history.
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, enc, get, hasRoute } from '../api.js';
import { useData, type Loadable } from '../data.js';
import { fmtAgo, fmtNumber, fmtPercent, fmtTime, formatValue, resourceName, SEVERITY_ORDER } from '../format.js';
import { href, nodeHref, type Route } from '../router.js';
import type { Correlations, HistoryItem, NodeDetail, Page, Status, StoredFinding } from '../types.js';
import { FindingsTable } from '../components/findings.js';
import { Empty, Failure, Loading, Panel, SeverityBadge, Show, StatusBadge, Time } from '../components/ui.js';

const STATUS_ORDER: Status[] = ['fail', 'error', 'warn', 'pass', 'skip'];
const byConcern = (a: StoredFinding, b: StoredFinding): number =>
  STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity)
  || a.title.localeCompare(b.title);

function Identity({ n }: { n: NodeDetail }): JSX.Element {
  const comps = Object.entries(n.info.components ?? {});
  return (
    <dl class="facts">
      <div><dt>Status</dt><dd><span class={`pill ${n.status}`}>{n.status === 'silent' ? '◌ silent' : '● reporting'}</span></dd></div>
      <div><dt>Last report</dt><dd><Time iso={n.lastReport} relative={fmtAgo(n.lastReport)} /> <span class="muted">({fmtTime(n.lastReport)})</span></dd></div>
      <div><dt>Last scan</dt><dd>{fmtTime(n.lastScan)}</dd></div>
      <div><dt>Roles</dt><dd>{n.roles.length ? n.roles.map((r) => <span key={r} class="tag">{r}</span>) : 'none'}</dd></div>
      <div><dt>Agent</dt><dd>{n.agentVersion ?? 'unknown'}{n.lastSeq !== null ? <span class="muted"> · seq {n.lastSeq}</span> : null}</dd></div>
      <div><dt>OS</dt><dd>{n.info.os ?? '–'}</dd></div>
      <div><dt>Kernel</dt><dd>{n.info.kernel ?? '–'}{n.info.architecture ? ` · ${n.info.architecture}` : ''}</dd></div>
      <div><dt>First seen</dt><dd>{fmtTime(n.firstSeen)}</dd></div>
      <div class="wide"><dt>Components</dt><dd>{comps.length
        ? comps.map(([name, c]) => <span key={name} class="tag">{name}{c.version ? ` ${c.version}` : ''}{c.source ? <span class="muted"> ({c.source})</span> : null}</span>)
        : 'no Kubernetes component found'}</dd></div>
    </dl>
  );
}

function Summary({ n }: { n: NodeDetail }): JSX.Element {
  return (
    <div class="cards small">
      <div class="card"><p class="card-label">Pass rate</p><p class="card-value">{fmtPercent(n.passRate)}</p></div>
      {(['fail', 'warn', 'error', 'pass', 'skip'] as const).map((s) => (
        <div class="card" key={s}>
          <p class="card-label"><StatusBadge status={s} /></p>
          <p class="card-value"><a href={href('/findings', { node: n.name, status: s })}>{fmtNumber(n.summary[s])}</a></p>
        </div>
      ))}
    </div>
  );
}

function Groups({ n, openId }: { n: NodeDetail; openId?: string }): JSX.Element {
  const [showAll, setShowAll] = useState(false);
  const groups = new Map<string, StoredFinding[]>();
  for (const f of [...n.findings].sort(byConcern)) {
    const list = groups.get(f.component);
    if (list) list.push(f); else groups.set(f.component, [f]);
  }
  const entries = [...groups].sort(([, a], [, b]) => byConcern(a[0], b[0]));
  const concerning = (f: StoredFinding): boolean => f.status !== 'pass' && f.status !== 'skip';
  if (entries.length === 0) return <Empty title="No findings from this node" />;
  return (
    <>
      <div class="toolbar">
        <label class="check"><input type="checkbox" checked={showAll} onChange={(e) => setShowAll((e.target as HTMLInputElement).checked)} /> Show passing and skipped checks</label>
        {n.findingsTruncated ? <span class="muted">Showing the first {fmtNumber(n.findings.length)} findings; <a href={href('/findings', { node: n.name })}>all of them</a>.</span> : null}
      </div>
      {entries.map(([component, items]) => {
        const shown = showAll || items.some((f) => f.id === openId) ? items : items.filter(concerning);
        const fail = items.filter((f) => f.status === 'fail').length;
        const warn = items.filter((f) => f.status === 'warn').length;
        return (
          <section key={component} class="group" aria-labelledby={`g-${component}`}>
            <h3 id={`g-${component}`}>
              <span>{component}</span>
              <span class="group-counts">
                {fail ? <span class="st-fg-fail">✕ {fail} fail</span> : null}
                {warn ? <span class="st-fg-warn">! {warn} warn</span> : null}
                <span class="muted">{items.length} checks</span>
              </span>
            </h3>
            {shown.length
              ? <FindingsTable items={shown} showNode={false} openId={openId} caption={`${component} findings`} />
              : <p class="muted all-pass">✓ Every check of {component} passes or does not apply.</p>}
          </section>
        );
      })}
    </>
  );
}

const isFile = (r: StoredFinding['resource']): boolean => r.kind === 'file' || r.kind === 'certificate';

/** The node's files and certificates now, and those resolved in the history window (gone, or no longer judged). */
function FileChanges({ n, history }: { n: NodeDetail; history: Loadable<HistoryItem[]> }): JSX.Element {
  const files = n.findings.filter((f) => isFile(f.resource)).sort((a, b) => b.changedAt.localeCompare(a.changedAt));
  const current = new Set(files.map((f) => f.id));
  const gone = history.state === 'ok'
    ? history.data.filter((h) => isFile(h.resource) && h.resolvedAt && !current.has(h.findingId))
    : [];
  if (files.length === 0 && gone.length === 0) {
    return <Empty title="No sensitive file watched on this node">Kubeconfigs, manifests, PKI keys and certificates appear here when the node has them.</Empty>;
  }
  return (
    <div class="table-wrap">
      <table class="compact-table">
        <caption class="sr-only">Sensitive files, most recently changed first</caption>
        <thead><tr><th scope="col">File</th><th scope="col">Check</th><th scope="col">Status</th><th scope="col">Value</th><th scope="col">Changed</th></tr></thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.id} class={f.changedAt !== f.firstSeen ? 'changed' : ''}>
              <td class="mono">{resourceName(f.resource)}</td>
              <td>{f.title}</td>
              <td><StatusBadge status={f.status} /></td>
              <td class="mono">{f.evidence.value === undefined ? '–' : formatValue(f.evidence.value)}</td>
              <td>{f.changedAt !== f.firstSeen ? <><b>changed</b> <Time iso={f.changedAt} relative={fmtAgo(f.changedAt)} /></> : <span class="muted">unchanged since {fmtTime(f.firstSeen)}</span>}</td>
            </tr>
          ))}
          {gone.map((h) => (
            <tr key={h.findingId} class="changed">
              <td class="mono">{resourceName(h.resource)}</td>
              <td>{h.title}</td>
              <td><StatusBadge status="resolved" /></td>
              <td class="mono">–</td>
              <td><b>resolved</b> <Time iso={h.resolvedAt!} relative={fmtAgo(h.resolvedAt!)} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The node's history: GET /api/v1/nodes/{name}/history when served, else built from its findings and events. */
async function loadHistory(n: NodeDetail, signal: AbortSignal): Promise<HistoryItem[]> {
  if (await hasRoute('/api/v1/nodes/{name}/history')) {
    const page = await get<Page<HistoryItem>>('/api/v1/nodes/{name}/history', { since: '30d', limit: 500 }, `/api/v1/nodes/${enc(n.name)}/history`, signal);
    return page.items;
  }
  const resolved = await get<Page<StoredFinding>>('/api/v1/findings', { node: n.name, status: 'resolved', sort: 'recent', limit: 200 }, undefined, signal);
  const eventsOf = new Map<string, HistoryItem['events']>();
  for (const e of n.history.events) {
    const list = eventsOf.get(e.findingId) ?? [];
    list.push({ at: e.at, event: e.event, status: e.status });
    eventsOf.set(e.findingId, list);
  }
  const item = (f: StoredFinding): HistoryItem => ({
    findingId: f.id, checkId: f.checkId, title: f.title, severity: f.severity, component: f.component, resource: f.resource,
    status: f.resolvedAt ? 'resolved' : f.status,
    openedAt: f.status === 'fail' || f.resolvedAt ? f.changedAt : null,
    resolvedAt: f.resolvedAt,
    events: eventsOf.get(f.id) ?? [],
  });
  return [...n.findings.filter((f) => f.status === 'fail' || eventsOf.has(f.id)), ...resolved.items].map(item)
    .sort((a, b) => (b.resolvedAt ?? b.openedAt ?? '').localeCompare(a.resolvedAt ?? a.openedAt ?? ''));
}

function History({ name, data }: { name: string; data: Loadable<HistoryItem[]> }): JSX.Element {
  return (
    <Show data={data}>{(items) => (items.length === 0
      ? <Empty title="No failure opened or resolved yet" />
      : (
        <div class="table-wrap">
          <table class="compact-table history">
            <caption class="sr-only">Findings opened and resolved on this node</caption>
            <thead><tr><th scope="col">Finding</th><th scope="col">Severity</th><th scope="col">Now</th><th scope="col">Opened</th><th scope="col">Resolved</th><th scope="col">Events</th></tr></thead>
            <tbody>
              {items.map((h) => (
                <tr key={h.findingId}>
                  <td><a href={nodeHref(name, h.findingId)}>{h.title}</a><div class="sub mono">{resourceName(h.resource)}</div></td>
                  <td><SeverityBadge severity={h.severity} /></td>
                  <td><StatusBadge status={h.status} /></td>
                  <td>{h.openedAt ? fmtTime(h.openedAt) : '–'}</td>
                  <td>{h.resolvedAt ? fmtTime(h.resolvedAt) : <span class="muted">open</span>}</td>
                  <td class="events">{h.events.length ? h.events.map((e, i) => <span key={i} class="tag">{e.event} → {e.status} <span class="muted">{fmtAgo(e.at)}</span></span>) : <span class="muted">–</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}</Show>
  );
}

function NodeCorrelations({ name }: { name: string }): JSX.Element {
  const data = useData((sig) => get<Correlations>('/api/v1/correlations', { node: name }, undefined, sig), ['node-corr', name]);
  return (
    <Show data={data}>{(c) => (c.items.length === 0
      ? <Empty title="Part of no attack path or drift" />
      : (
        <ul class="attention">
          {c.items.map((x) => (
            <li key={x.id}>
              <SeverityBadge severity={x.severity} />
              <a href={x.kind === 'attack-path' ? `#/attack-paths?id=${enc(x.id)}` : x.kind === 'drift' ? '#/drift' : nodeHref(name)}>{x.title}</a>
              <span class="kind">{x.kind}</span>
            </li>
          ))}
        </ul>
      ))}</Show>
  );
}

export function NodePage({ route }: { route: Route }): JSX.Element {
  const name = route.parts[1] ?? '';
  const openId = route.params.get('finding') ?? undefined;
  const node = useData((sig) => get<NodeDetail>('/api/v1/nodes/{name}', { limit: 5000 }, `/api/v1/nodes/${enc(name)}`, sig), ['node', name]);

  useEffect(() => {
    if (!openId || node.state !== 'ok') return;
    const row = document.querySelector(`tr[data-finding="${CSS.escape(openId)}"]`);
    row?.scrollIntoView({ block: 'center' });
  }, [openId, node.state]);

  if (node.state === 'loading') return <div class="page"><Loading label={`Loading ${name}`} /></div>;
  if (node.state === 'error') {
    const missing = node.error instanceof ApiError && node.error.status === 404;
    return (
      <div class="page">
        <div class="page-head"><h1>{name}</h1></div>
        {missing ? <Empty title={`No node named ${name}`}>It has never reported, or its records were deleted. <a href="#/">Back to the overview</a>.</Empty> : <Failure error={node.error} />}
      </div>
    );
  }
  return <NodeView n={node.data} openId={openId} />;
}

function NodeView({ n, openId }: { n: NodeDetail; openId?: string }): JSX.Element {
  // One read of the history feeds two panels: the history table, and the files resolved in the window.
  const history = useData((sig) => loadHistory(n, sig), ['history', n.name, n.lastReport]);
  return (
    <div class="page node-page">
      <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Overview</a> <span aria-hidden="true">/</span> <span aria-current="page">{n.name}</span></nav>
      <div class="page-head">
        <h1>{n.name}</h1>
        <p class="page-sub">{n.roles.join(', ') || 'no role'} · last report <Time iso={n.lastReport} relative={fmtAgo(n.lastReport)} /></p>
      </div>
      <Summary n={n} />
      <div class="grid-2">
        <Panel id="identity" title="Identity"><Identity n={n} /></Panel>
        <Panel id="node-correlations" title="Attack paths and drift"><NodeCorrelations name={n.name} /></Panel>
      </div>
      <Panel id="node-findings" title="Findings by component"><Groups n={n} openId={openId} /></Panel>
      <Panel id="files" title="Sensitive files"><FileChanges n={n} history={history} /></Panel>
      <Panel id="history" title="History"><History name={n.name} data={history} /></Panel>
    </div>
  );
}
