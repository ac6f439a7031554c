// A finding as the page shows it: one dense row (severity, status, title, node, resource, evidence in one line,
// time), and, opened, everything it rests on: the evidence field by field, the remediation, its life.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { evidenceText, fmtAgo, fmtTime, formatValue, resourceName } from '../format.js';
import { href, nodeHref } from '../router.js';
import type { StoredFinding } from '../types.js';
import { SeverityBadge, StatusBadge, Time } from './ui.js';

function Evidence({ f }: { f: StoredFinding }): JSX.Element {
  const e = f.evidence;
  const rows: Array<[string, string]> = [['Source', e.source]];
  if (e.path) rows.push(['Path', e.path]);
  if (e.key) rows.push(['Key', e.key]);
  if (e.value !== undefined) rows.push(['Value', formatValue(e.value) || '""']);
  if (e.expected) rows.push(['Expected', e.expected]);
  if (e.detail) rows.push(['Detail', e.detail]);
  return (
    <dl class="evidence">
      {rows.map(([k, v]) => (
        <div key={k}><dt>{k}</dt><dd><code>{v}</code></dd></div>
      ))}
    </dl>
  );
}

function FindingDetail({ f, showNode = true }: { f: StoredFinding; showNode?: boolean }): JSX.Element {
  const r = f.resource as Record<string, unknown>;
  return (
    <div class="finding-detail">
      <div class="detail-grid">
        <section>
          <h4>Evidence</h4>
          <Evidence f={f} />
        </section>
        <section>
          <h4>Remediation</h4>
          <p class="remediation">{f.remediation || 'No remediation given.'}</p>
          <h4>About</h4>
          <dl class="facts compact">
            <div><dt>Check</dt><dd><a href={href('/findings', { check: f.checkId })}>{f.checkId}</a>{f.cis ? <> · CIS {f.cis}</> : null}{f.pss ? <> · PSS {f.pss} ({f.level})</> : null}</dd></div>
            {showNode ? <div><dt>Node</dt><dd><a href={nodeHref(f.node)}>{f.node}</a></dd></div> : null}
            <div><dt>Resource</dt><dd><code>{String(r.kind)}</code> {resourceName(f.resource)}{typeof r.image === 'string' ? <> · <code>{r.image}</code></> : null}</dd></div>
            <div><dt>First seen</dt><dd>{fmtTime(f.firstSeen)}</dd></div>
            <div><dt>Changed</dt><dd>{fmtTime(f.changedAt)}</dd></div>
            {f.resolvedAt ? <div><dt>Resolved</dt><dd>{fmtTime(f.resolvedAt)}</dd></div> : <div><dt>Last seen</dt><dd>{fmtTime(f.lastSeen)}</dd></div>}
            <div><dt>Id</dt><dd><code>{f.id}</code></dd></div>
          </dl>
        </section>
      </div>
    </div>
  );
}

export function FindingsTable({ items, showNode = true, openId, caption }: {
  items: StoredFinding[]; showNode?: boolean; openId?: string; caption: string;
}): JSX.Element {
  const [open, setOpen] = useState<Set<string>>(() => new Set(openId ? [openId] : []));
  const toggle = (key: string): void => setOpen((s) => {
    const next = new Set(s);
    if (next.has(key)) next.delete(key); else next.add(key);
    return next;
  });
  const cols = showNode ? 6 : 5;
  return (
    <div class="table-wrap">
      <table class="findings">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" class="c-sev">Severity</th>
            <th scope="col" class="c-status">Status</th>
            <th scope="col">Finding</th>
            {showNode ? <th scope="col" class="c-node">Node</th> : null}
            <th scope="col" class="c-evidence">Evidence</th>
            <th scope="col" class="c-time">Changed</th>
          </tr>
        </thead>
        <tbody>
          {items.map((f) => {
            const key = `${f.node}\u0000${f.id}`;
            const isOpen = open.has(key) || f.id === openId;
            const detailId = `d-${f.node}-${f.id}`.replace(/[^A-Za-z0-9_-]/g, '_');
            return [
              <tr key={key} class={`row ${isOpen ? 'open' : ''}`} data-finding={f.id}>
                <td class="c-sev"><SeverityBadge severity={f.severity} /></td>
                <td class="c-status"><StatusBadge status={f.resolvedAt ? 'resolved' : f.status} /></td>
                <td class="c-title">
                  <button type="button" class="linkish" aria-expanded={isOpen} aria-controls={detailId} onClick={() => toggle(key)}>
                    <span class="chev" aria-hidden="true">{isOpen ? '▾' : '▸'}</span>{f.title}
                  </button>
                  <div class="sub">
                    <span class="mono">{f.checkId}</span>{f.cis ? <> · CIS {f.cis}</> : null} · {f.component} · <span class="mono">{resourceName(f.resource)}</span>
                  </div>
                </td>
                {showNode ? <td class="c-node"><a href={nodeHref(f.node, f.id)}>{f.node}</a></td> : null}
                <td class="c-evidence"><code class="evidence-line">{evidenceText(f.evidence)}</code></td>
                <td class="c-time"><Time iso={f.changedAt} relative={fmtAgo(f.changedAt)} /></td>
              </tr>,
              isOpen ? (
                <tr key={`${key}-detail`} class="detail-row" id={detailId}>
                  <td colSpan={cols}><FindingDetail f={f} showNode={showNode} /></td>
                </tr>
              ) : null,
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}
