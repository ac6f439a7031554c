// Drift: per role, a setting × node matrix of the settings where nodes of that role disagree. The odd values
// are marked (≠, bold, hatched), not only coloured.
import type { JSX } from 'preact';
import { get } from '../api.js';
import { useData } from '../data.js';
import { compareNames, formatValue, fmtNumber, SEVERITY_ORDER } from '../format.js';
import { nodeHref } from '../router.js';
import type { CheckItem, Correlation, Correlations, Severity } from '../types.js';
import { Empty, Panel, SeverityBadge, Show } from '../components/ui.js';

interface Cell { value: string; status?: string; odd: boolean; findingId: string }
interface Setting {
  findingId: string; checkId: string; title: string; severity: Severity;
  cells: Map<string, Cell>;
  baseline?: { value: string; nodes: number; of: number };
}
interface RoleMatrix { role: string; nodes: string[]; settings: Setting[] }

/** `drift:<role>:<finding id>:<node>`; the role is the node's sorted roles, comma-joined. */
const roleOf = (c: Correlation): string => c.role ?? c.id.split(':')[1] ?? 'none';
const show = (v: unknown): string => (v === undefined ? 'no value' : formatValue(v) || '""');

/** "worker-2 has true; 4 of 5 worker nodes have false" → 4 of 5 (older collectors put it only in the text). */
function baselineFromDetail(c: Correlation): Setting['baseline'] {
  if (c.baseline) {
    const value = c.baseline.status !== undefined && c.baseline.value === undefined ? `status ${c.baseline.status}` : show(c.baseline.value);
    return { value, nodes: c.baseline.nodes, of: c.baseline.of };
  }
  const m = / (\d+) of (\d+) .* have (.*)$/.exec(c.detail ?? '');
  const agreeing = c.evidence[1];
  if (!m) return undefined;
  return { value: agreeing ? show(agreeing.value ?? (agreeing.status ? `status ${agreeing.status}` : undefined)) : m[3], nodes: Number(m[1]), of: Number(m[2]) };
}

function driftMatrices(items: Correlation[], titles: Map<string, string>): RoleMatrix[] {
  const roles = new Map<string, Map<string, Setting>>();
  for (const c of items) {
    const odd = c.evidence[0];
    if (!odd) continue;
    const role = roleOf(c);
    const settings = roles.get(role) ?? new Map<string, Setting>();
    roles.set(role, settings);
    let s = settings.get(odd.findingId);
    if (!s) {
      s = { findingId: odd.findingId, checkId: odd.checkId, title: titles.get(odd.checkId) ?? odd.checkId, severity: c.severity, cells: new Map(), baseline: baselineFromDetail(c) };
      settings.set(odd.findingId, s);
    }
    if (SEVERITY_ORDER.indexOf(c.severity) < SEVERITY_ORDER.indexOf(s.severity)) s.severity = c.severity;
    c.evidence.forEach((e, i) => {
      const oddHere = i === 0 && e.node === odd.node;
      const prev = s!.cells.get(e.node);
      if (!prev || oddHere) s!.cells.set(e.node, { value: show(e.value ?? (e.status ? `status ${e.status}` : undefined)), status: e.status, odd: oddHere || (prev?.odd ?? false), findingId: e.findingId });
    });
  }
  return [...roles].map(([role, settings]) => {
    const list = [...settings.values()].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.title.localeCompare(b.title));
    const oddCount = new Map<string, number>();
    for (const s of list) for (const [n, cell] of s.cells) oddCount.set(n, (oddCount.get(n) ?? 0) + (cell.odd ? 1 : 0));
    // The odd nodes first (most drifted first), then the nodes shown for comparison.
    const nodes = [...oddCount.keys()].sort((a, b) => (oddCount.get(b)! - oddCount.get(a)!) || compareNames(a, b));
    return { role, nodes, settings: list };
  }).sort((a, b) => a.role.localeCompare(b.role));
}

function Matrix({ m }: { m: RoleMatrix }): JSX.Element {
  return (
    <div class="table-wrap">
      <table class="matrix">
        <caption class="sr-only">Settings where {m.role} nodes disagree; odd values marked ≠</caption>
        <thead>
          <tr>
            <th scope="col" class="setting">Setting</th>
            <th scope="col">Most {m.role} nodes</th>
            {m.nodes.map((n) => <th scope="col" key={n} class="node-col"><a href={nodeHref(n)}>{n}</a></th>)}
          </tr>
        </thead>
        <tbody>
          {m.settings.map((s) => (
            <tr key={s.findingId}>
              <th scope="row" class="setting">
                <SeverityBadge severity={s.severity} /> {s.title}
                <div class="sub mono">{s.checkId}</div>
              </th>
              <td class="baseline">{s.baseline ? <><code>{s.baseline.value}</code> <span class="muted">{s.baseline.nodes} of {s.baseline.of}</span></> : <span class="muted">–</span>}</td>
              {m.nodes.map((n) => {
                const cell = s.cells.get(n);
                if (!cell) return <td key={n} class="na"><span class="muted" title="not part of this comparison">·</span></td>;
                return (
                  <td key={n} class={cell.odd ? 'odd' : 'agree'}>
                    <a href={nodeHref(n, cell.findingId)}>
                      {cell.odd ? <span class="odd-mark" aria-label="differs">≠ </span> : null}<code>{cell.value}</code>
                    </a>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Drift(): JSX.Element {
  const data = useData(async (sig) => {
    const [corr, checks] = await Promise.all([
      get<Correlations>('/api/v1/correlations', { kind: 'drift', limit: 10_000 }, undefined, sig),
      get<{ items: CheckItem[] }>('/api/v1/checks', {}, undefined, sig),
    ]);
    return driftMatrices(corr.items, new Map(checks.items.map((c) => [c.checkId, c.title])));
  }, ['drift']);
  return (
    <div class="page drift-page">
      <div class="page-head">
        <h1>Drift</h1>
        <p class="page-sub">Settings where a node differs from the other nodes of its role: the one worker with anonymous auth on. Odd values are marked <span class="odd-sample">≠</span>.</p>
      </div>
      <Show data={data} loading="Comparing nodes">{(ms) => (ms.length === 0
        ? <Empty title="No drift">Every node agrees with the other nodes of its role on every setting the agents read.</Empty>
        : <>{ms.map((m) => (
          <Panel key={m.role} id={`drift-${m.role.replace(/[^a-z0-9-]/gi, '_')}`} title={<>Role <code>{m.role}</code> · {fmtNumber(m.settings.length)} setting{m.settings.length === 1 ? '' : 's'} disagree</>}>
            <Matrix m={m} />
          </Panel>
        ))}</>)}</Show>
    </div>
  );
}
