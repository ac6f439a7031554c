// Findings: the REST filters as a form whose state lives in the URL (a view is a link), paged with the cursor.
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { useData } from '../data.js';
import { SEVERITY_LABEL, SEVERITY_ORDER, STATUS_LABEL, fmtNumber } from '../format.js';
import { href, replaceHash, type Route } from '../router.js';
import type { CheckItem, NodeItem, Page, StoredFinding } from '../types.js';
import { FindingsTable } from '../components/findings.js';
import { Empty, Show } from '../components/ui.js';

const FILTERS = ['status', 'severity', 'check', 'cis', 'component', 'node', 'namespace', 'pod', 'q', 'since', 'sort'] as const;
type Filter = (typeof FILTERS)[number];
const STATUS_CHOICES = ['fail', 'warn', 'error', 'pass', 'skip', 'resolved'] as const;
const PAGE_SIZE = 100;
const TEXT_DEBOUNCE_MS = 350;
const CIS_PATTERN = /^\d+(\.\d+)*$/;

function listParam(p: URLSearchParams, name: string): string[] {
  return (p.get(name) ?? '').split(',').filter(Boolean);
}

function withParam(p: URLSearchParams, name: string, value: string | undefined): URLSearchParams {
  const next = new URLSearchParams(p);
  if (value) next.set(name, value); else next.delete(name);
  if (name !== 'cursor') next.delete('cursor');
  return next;
}

function ToggleGroup({ label, name, choices, labels, params }: {
  label: string; name: string; choices: readonly string[]; labels: Record<string, string>; params: URLSearchParams;
}): JSX.Element {
  const selected = listParam(params, name);
  const toggle = (c: string): void => {
    const next = selected.includes(c) ? selected.filter((s) => s !== c) : [...selected, c];
    replaceHash(href('/findings', withParam(params, name, next.join(','))));
  };
  return (
    <fieldset class="toggles">
      <legend>{label}</legend>
      {choices.map((c) => (
        <button key={c} type="button" class={`chip chip-${name}-${c}`} aria-pressed={selected.includes(c)} onClick={() => toggle(c)}>
          {selected.includes(c) ? <span aria-hidden="true">✓ </span> : null}{labels[c]}
        </button>
      ))}
    </fieldset>
  );
}

/** A text filter: typed freely, written to the URL after a pause or on Enter. */
function TextFilter({ name, label, params, placeholder, list, pattern, wide }: {
  name: Filter; label: string; params: URLSearchParams; placeholder?: string; list?: string; pattern?: RegExp; wide?: boolean;
}): JSX.Element {
  const fromUrl = params.get(name) ?? '';
  const [draft, setDraft] = useState(fromUrl);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => setDraft(fromUrl), [fromUrl]);
  const invalid = draft !== '' && pattern !== undefined && !pattern.test(draft);
  const commit = (value: string): void => {
    clearTimeout(timer.current);
    if (pattern && value !== '' && !pattern.test(value)) return;
    replaceHash(href('/findings', withParam(params, name, value.trim())));
  };
  const id = `f-${name}`;
  return (
    <div class={`field ${wide ? 'wide' : ''}`}>
      <label for={id}>{label}</label>
      <input id={id} name={name} type={name === 'q' ? 'search' : 'text'} value={draft} placeholder={placeholder} list={list}
        autocomplete="off" spellcheck={false} aria-invalid={invalid}
        onInput={(e) => {
          const v = (e.target as HTMLInputElement).value;
          setDraft(v);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => commit(v), TEXT_DEBOUNCE_MS);
        }}
        onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); commit((e.target as HTMLInputElement).value); } }}
        onChange={(e) => commit((e.target as HTMLInputElement).value)} />
      {invalid ? <span class="field-error">a CIS id such as 4.2.1 or a section such as 4.2</span> : null}
    </div>
  );
}

function SelectFilter({ name, label, params, options }: {
  name: Filter; label: string; params: URLSearchParams; options: Array<[string, string]>;
}): JSX.Element {
  const id = `f-${name}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} name={name} value={params.get(name) ?? ''}
        onChange={(e) => replaceHash(href('/findings', withParam(params, name, (e.target as HTMLSelectElement).value)))}>
        {options.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
      </select>
    </div>
  );
}

export function Findings({ route }: { route: Route }): JSX.Element {
  const params = route.params;
  const apiParams = useMemo(() => {
    const out: Record<string, string> = { limit: String(PAGE_SIZE) };
    for (const f of [...FILTERS, 'cursor']) {
      const v = params.get(f);
      if (v) out[f] = v;
    }
    return out;
  }, [params.toString()]);
  const findings = useData((sig) => get<Page<StoredFinding>>('/api/v1/findings', apiParams, undefined, sig), [apiParams]);
  const checks = useData((sig) => get<{ items: CheckItem[] }>('/api/v1/checks', {}, undefined, sig), ['checks'], { live: false });
  const nodes = useData((sig) => get<Page<NodeItem>>('/api/v1/nodes', { limit: 1000 }, undefined, sig), ['node-names'], { live: false });

  const components = checks.state === 'ok' ? [...new Set(checks.data.items.map((c) => c.component))].sort() : [];
  const active = FILTERS.filter((f) => f !== 'sort' && params.get(f));
  // Cursors of the pages before this one, for Previous; a new filter starts again from the first page.
  const stack = useRef<{ key: string; cursors: string[] }>({ key: '', cursors: [] });
  const filterKey = FILTERS.map((f) => params.get(f) ?? '').join('\u0000');
  if (stack.current.key !== filterKey || !params.get('cursor')) stack.current = { key: filterKey, cursors: [] };
  // A shared link may start on a later page, whose number this tab does not know.
  const pageNo = params.get('cursor') && stack.current.cursors.length === 0 ? null : stack.current.cursors.length + 1;
  const goTo = (cursor: string | undefined): void => {
    replaceHash(href('/findings', withParam(params, 'cursor', cursor)));
    document.getElementById('results-title')?.scrollIntoView({ block: 'start' });
  };

  return (
    <div class="page findings-page">
      <div class="page-head">
        <h1>Findings</h1>
        <p class="page-sub">Every open finding across the cluster, or the resolved ones; the address bar holds the filter, so a view can be shared.</p>
      </div>
      <form class="filters" role="search" aria-label="Filter findings" onSubmit={(e) => e.preventDefault()}>
        <div class="filter-row">
          <TextFilter name="q" label="Search" params={params} placeholder="title, path, value, container…" wide />
          <ToggleGroup label="Status" name="status" choices={STATUS_CHOICES} labels={STATUS_LABEL} params={params} />
          <ToggleGroup label="Severity" name="severity" choices={SEVERITY_ORDER} labels={SEVERITY_LABEL} params={params} />
        </div>
        <div class="filter-row">
          <TextFilter name="node" label="Node" params={params} list="node-names" />
          <SelectFilter name="component" label="Component" params={params}
            options={[['', 'any'], ...components.map((c): [string, string] => [c, c]), ...(params.get('component') && !components.includes(params.get('component')!) ? [[params.get('component')!, params.get('component')!] as [string, string]] : [])]} />
          <TextFilter name="check" label="Check" params={params} list="check-ids" placeholder="cis-4.2.1" />
          <TextFilter name="cis" label="CIS id" params={params} placeholder="4.2" pattern={CIS_PATTERN} />
          <TextFilter name="namespace" label="Namespace" params={params} />
          <TextFilter name="pod" label="Pod" params={params} />
          <SelectFilter name="since" label="Changed" params={params}
            options={[['', 'any time'], ['1h', 'last hour'], ['24h', 'last 24 hours'], ['7d', 'last 7 days'], ['30d', 'last 30 days']]} />
          <SelectFilter name="sort" label="Sort" params={params}
            options={[['', 'problems first'], ['severity', 'most severe'], ['recent', 'most recent'], ['node', 'by node']]} />
        </div>
        <datalist id="node-names">{nodes.state === 'ok' ? nodes.data.items.map((n) => <option key={n.name} value={n.name} />) : null}</datalist>
        <datalist id="check-ids">{checks.state === 'ok' ? checks.data.items.map((c) => <option key={c.checkId} value={c.checkId}>{c.title}</option>) : null}</datalist>
        {active.length ? (
          <p class="active-filters">
            <span>{active.length} filter{active.length === 1 ? '' : 's'} set</span>
            <a href="#/findings" class="button-link">Clear all</a>
          </p>
        ) : null}
      </form>

      <section aria-labelledby="results-title" class="results">
        <h2 id="results-title" class="sr-only">Results</h2>
        <Show data={findings} loading="Loading findings">{(page) => (
          <>
            <div class="result-bar" aria-live="polite">
              <span data-testid="result-count">
                {page.items.length === 0 ? 'No findings'
                  : pageNo === null ? `${fmtNumber(page.items.length)} findings on this page${page.nextCursor ? ', more follow' : ''}`
                    : `Findings ${fmtNumber((pageNo - 1) * PAGE_SIZE + 1)}–${fmtNumber((pageNo - 1) * PAGE_SIZE + page.items.length)}${page.nextCursor ? ', more follow' : ''}`}
              </span>
            </div>
            {page.items.length === 0
              ? <Empty title="No finding matches this filter">{active.length ? 'Loosen or clear the filter above.' : 'No agent has reported yet.'}</Empty>
              : <FindingsTable items={page.items} caption="Findings matching the filter" />}
            <nav class="pager" aria-label="Pages">
              <button type="button" disabled={!params.get('cursor')} onClick={() => goTo(stack.current.cursors.pop() || undefined)}>{pageNo === null ? '← First page' : '← Previous'}</button>
              <span>{pageNo === null ? 'A later page' : `Page ${pageNo}`}</span>
              <button type="button" disabled={!page.nextCursor} onClick={() => {
                stack.current.cursors.push(params.get('cursor') ?? '');
                goTo(page.nextCursor ?? undefined);
              }}>Next →</button>
            </nav>
          </>
        )}</Show>
      </section>
    </div>
  );
}
