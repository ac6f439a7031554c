// `--format html`: one self-contained page (inline CSS and JS, system fonts, no request of any kind) with the
// summary, the findings grouped by component with their evidence and remediation, and filters that work offline.
// Everything from the host (paths, values, container names) is escaped; a content-security-policy that allows
// only this page's own style and script (by hash) and no network stands behind the escaping.
import { createHash } from 'node:crypto';
import { SEVERITIES, STATUSES, severityRank } from '../../proto/findings.js';
import type { Finding, NodeReport, Severity, Status } from '../../proto/report.js';
import { groupByComponent, noKubernetesComponents } from './common.js';
import { compareCis, evidenceLines, evidenceText, formatValue, resourceName } from '../../proto/finding-text.js';
import { visible } from './table.js';

/** Text for HTML content and quoted attribute values: the five characters that can end either are replaced. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Host data as page text: control characters made visible (as in the table), then escaped. */
const h = (text: string): string => escapeHtml(visible(text));

const STATUS_ORDER: Status[] = ['fail', 'error', 'warn', 'pass', 'skip'];
const STATUS_LABEL: Record<Status, string> = { fail: 'Fail', error: 'Error', warn: 'Warn', pass: 'Pass', skip: 'Skip' };
const STATUS_GLYPH: Record<Status, string> = { fail: '✕', error: '?', warn: '!', pass: '✓', skip: '–' };
const SEVERITY_GLYPH: Record<Severity, string> = { critical: '▲', high: '◆', medium: '●', low: '▼', info: '○' };
const SEVERITY_DESC = [...SEVERITIES].reverse() as Severity[];
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

// The palette of the collector's dashboard (collector/dashboard/src/styles.css): Okabe–Ito severity colours,
// always with a glyph and a word, light and dark by the reader's system setting.
const STYLE = `
:root{color-scheme:light dark;--bg:light-dark(#f6f7f9,#0f1115);--surface:light-dark(#fff,#171a21);--surface-2:light-dark(#f0f2f5,#1e222b);
--border:light-dark(#dde1e7,#2c323d);--text:light-dark(#1b1f24,#e6e8eb);--muted:light-dark(#5b6470,#9aa3ae);--grid:light-dark(#e7eaee,#262b34);
--accent:light-dark(#0063a0,#6cc0f0);--sev-critical:#D55E00;--sev-high:#E69F00;--sev-medium:#F0E442;--sev-low:#56B4E9;--sev-info:light-dark(#b9bec6,#8a919b);
--st-pass:#009E73;--st-fail:#D55E00;--st-warn:#E69F00;--st-error:#CC79A7;--fg-fail:light-dark(#a84400,#ff8a47);--fg-warn:light-dark(#8a5d00,#f5b731);
--fg-pass:light-dark(#00704f,#3fcf9f);--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
*{box-sizing:border-box}html{font-size:14px}body{margin:0;background:var(--bg);color:var(--text);font:1rem/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
main{max-width:1280px;margin:0 auto;padding:24px}h1{font-size:1.6rem;margin:0}h2{font-size:1.05rem;margin:0}code,.mono{font-family:var(--mono);font-size:.92em}
.muted{color:var(--muted)}.head{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 16px;margin-bottom:16px}
.facts{display:flex;flex-wrap:wrap;gap:4px 18px;color:var(--muted);margin:6px 0 0;padding:0;list-style:none}.facts b{color:var(--text);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:10px;margin:0 0 16px}
.card{background:var(--surface);border:1px solid var(--border);border-radius:8px;padding:10px 14px}
.card p{margin:0}.label{font-size:.78rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600}.value{font-size:1.6rem;font-weight:680}
.badge{display:inline-flex;gap:4px;align-items:center;padding:1px 8px 1px 6px;border-radius:4px;font-size:.8rem;font-weight:600;white-space:nowrap;color:#111}
.sev-critical{background:var(--sev-critical)}.sev-high{background:var(--sev-high)}.sev-medium{background:var(--sev-medium)}.sev-low{background:var(--sev-low)}.sev-info{background:var(--sev-info)}
.st{background:transparent;color:var(--text);border:1px solid var(--border)}.st-fail{border-color:var(--st-fail)}.st-fail i{color:var(--fg-fail)}
.st-warn{border-color:var(--st-warn)}.st-warn i{color:var(--fg-warn)}.st-pass{border-color:var(--st-pass)}.st-pass i{color:var(--fg-pass)}
.st-error{border-color:var(--st-error)}.st-skip{color:var(--muted)}i{font-style:normal;font-weight:800}
.filters{display:none;flex-wrap:wrap;gap:10px 18px;align-items:center;background:var(--surface);border:1px solid var(--border);border-radius:8px;padding:10px 14px;margin-bottom:16px;position:sticky;top:0;z-index:1}
.js .filters{display:flex}.filters fieldset{border:0;margin:0;padding:0;display:flex;gap:4px;flex-wrap:wrap;align-items:center}
.filters legend{float:left;margin-right:6px;font-size:.78rem;color:var(--muted);font-weight:600}
.chip{font:inherit;color:inherit;height:28px;padding:0 10px;border-radius:99px;border:1px solid var(--border);background:var(--bg);cursor:pointer}
.chip[aria-pressed=true]{background:var(--text);color:var(--bg);font-weight:600}input[type=search]{font:inherit;color:inherit;height:30px;padding:0 8px;border:1px solid var(--border);border-radius:6px;background:var(--bg);min-width:240px}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.group{background:var(--surface);border:1px solid var(--border);border-radius:8px;margin-bottom:16px;overflow-x:auto}
.group h2{display:flex;gap:14px;align-items:baseline;padding:10px 14px;border-bottom:1px solid var(--border)}.group h2 small{font-weight:500;color:var(--muted);font-size:.85rem}
table{border-collapse:collapse;width:100%;table-layout:fixed}th:nth-child(1){width:108px}th:nth-child(2){width:84px}th.ev-col{width:34%}.section-label{margin:0 0 6px;font-size:.78rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600}th{text-align:left;font-size:.76rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}
th,td{padding:7px 10px;border-bottom:1px solid var(--grid);vertical-align:top}tr.f:last-child td{border-bottom:0}
.nw{white-space:nowrap;width:1%}summary{cursor:pointer;font-weight:560}.sub{color:var(--muted);font-size:.84rem}
.ev{font-family:var(--mono);font-size:.88rem;overflow-wrap:anywhere}dl{display:grid;grid-template-columns:110px 1fr;gap:3px 10px;margin:8px 0}
dt{color:var(--muted);font-size:.86rem}dd{margin:0;overflow-wrap:anywhere;font-family:var(--mono);font-size:.88rem;white-space:pre-wrap}
.rem{margin:6px 0 2px;white-space:pre-wrap}.note{background:var(--surface);border:1px dashed var(--border);border-radius:8px;padding:10px 14px;margin-bottom:16px}
.empty{padding:20px;text-align:center;color:var(--muted)}[hidden]{display:none!important}
footer{color:var(--muted);font-size:.85rem;margin-top:20px}
@media (max-width:700px){main{padding:12px}.ev-col{display:none}table{table-layout:auto}input[type=search]{min-width:0;width:100%}}
@media print{.filters{display:none!important}details>*{display:block}body{background:#fff}}
`.trim();

// Filters: status and severity toggles and free text, over data attributes of the rows the page already holds.
const SCRIPT = `
(function(){var d=document;d.documentElement.classList.add('js');
var rows=[].slice.call(d.querySelectorAll('tr.f')),groups=[].slice.call(d.querySelectorAll('section.group')),
q=d.getElementById('q'),shown=d.getElementById('shown'),none=d.getElementById('none'),on={status:{},severity:{}};
function any(k){for(var x in on[k])if(on[k][x])return true;return false}
function apply(){var t=q.value.trim().toLowerCase(),n=0,s=any('status'),v=any('severity');
rows.forEach(function(r){var ok=(!s||on.status[r.getAttribute('data-status')])&&(!v||on.severity[r.getAttribute('data-severity')])&&(!t||r.getAttribute('data-text').indexOf(t)>=0);r.hidden=!ok;if(ok)n++});
groups.forEach(function(g){g.hidden=!g.querySelector('tr.f:not([hidden])')});shown.textContent=String(n);none.hidden=n>0}
[].slice.call(d.querySelectorAll('button[data-k]')).forEach(function(b){b.addEventListener('click',function(){
var k=b.getAttribute('data-k'),x=b.getAttribute('data-v');on[k][x]=!on[k][x];b.setAttribute('aria-pressed',String(on[k][x]));apply()})});
q.addEventListener('input',apply);apply()})();
`.trim();

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const CSP = [
  "default-src 'none'", `style-src ${sha256(STYLE)}`, `script-src ${sha256(SCRIPT)}`, 'img-src data:', "base-uri 'none'", "form-action 'none'",
].join('; ');

const concern = (a: Finding, b: Finding): number =>
  STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status)
  || severityRank(b.severity) - severityRank(a.severity)
  || compareCis(a.cis ?? '~', b.cis ?? '~')
  || a.checkId.localeCompare(b.checkId);

function statusBadge(s: Status): string {
  return `<span class="badge st st-${s}"><i aria-hidden="true">${STATUS_GLYPH[s]}</i>${STATUS_LABEL[s]}</span>`;
}

function severityBadge(s: Severity): string {
  return `<span class="badge sev-${s}"><span aria-hidden="true">${SEVERITY_GLYPH[s]}</span>${cap(s)}</span>`;
}

function searchText(f: Finding): string {
  return [f.title, f.checkId, f.cis ?? '', f.component, resourceName(f.resource), evidenceLines(f.evidence).join(' '), f.pss ?? '']
    .join(' ').toLowerCase();
}

function evidenceList(f: Finding): string {
  const e = f.evidence;
  const rows: Array<[string, string | undefined]> = [
    ['source', e.source], ['path', e.path], ['key', e.key],
    ['value', e.value === undefined ? undefined : formatValue(e.value) || '""'], ['expected', e.expected], ['detail', e.detail],
  ];
  return `<dl>${rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `<dt>${k}</dt><dd>${h(v!)}</dd>`).join('')}</dl>`;
}

function findingRow(f: Finding): string {
  const r = f.resource as Record<string, unknown>;
  const image = typeof r.image === 'string' ? ` · image <code>${h(r.image)}</code>` : '';
  return `<tr class="f" data-status="${h(f.status)}" data-severity="${h(f.severity)}" data-text="${h(searchText(f))}">`
    + `<td class="nw">${severityBadge(f.severity)}</td><td class="nw">${statusBadge(f.status)}</td>`
    + `<td><details><summary>${h(f.title)}</summary>`
    + `<p class="sub">${h(f.checkId)}${f.cis ? ` · CIS ${h(f.cis)}` : ''}${f.pss ? ` · PSS ${h(f.pss)}${f.level ? ` (${h(f.level)})` : ''}` : ''} · ${h(String(r.kind))} ${h(resourceName(f.resource))}${image}</p>`
    + `${evidenceList(f)}<p class="rem"><b>Remediation:</b> ${h(f.remediation || 'none given')}</p></details>`
    + `<div class="sub mono">${h(resourceName(f.resource))}</div></td>`
    + `<td class="ev ev-col">${h(evidenceText(f.evidence))}</td></tr>`;
}

function group(component: string, findings: Finding[]): string {
  const counts = STATUS_ORDER.map((s) => [s, findings.filter((f) => f.status === s).length] as const).filter(([, n]) => n > 0);
  return `<section class="group" data-component="${h(component)}"><h2>${h(component)} <small>${counts.map(([s, n]) => `${n} ${s}`).join(' · ')}</small></h2>`
    + '<table><thead><tr><th>Severity</th><th>Status</th><th>Finding</th><th class="ev-col">Evidence</th></tr></thead><tbody>'
    + [...findings].sort(concern).map(findingRow).join('') + '</tbody></table></section>';
}

export function render(report: NodeReport): string {
  const node = report.node;
  const s = report.summary;
  const judged = s.pass + s.fail + s.warn;
  const rate = judged === 0 ? '–' : `${((s.pass / judged) * 100).toFixed(1)}%`;
  const failing = SEVERITY_DESC.map((sev) => [sev, report.findings.filter((f) => f.status === 'fail' && f.severity === sev).length] as const);
  const components = Object.entries(node.components ?? {}).map(([name, c]) => `${name}${c.version ? ` ${c.version}` : ''}`).join(', ');
  const facts: Array<[string, string | undefined]> = [
    ['Roles', node.roles.join(', ') || 'none'], ['Scanned', report.scannedAt], ['OS', node.os], ['Kernel', node.kernel],
    ['Agent', node.agentVersion], ['Components', components || 'none found'],
  ];
  const groups = [...groupByComponent(report.findings)];
  const noKube = noKubernetesComponents(report.findings, node.components);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>Vigil scan · ${h(node.name)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header class="head">
<h1>Vigil scan · <span data-testid="node-name">${h(node.name)}</span></h1>
<ul class="facts">${facts.filter(([, v]) => v).map(([k, v]) => `<li>${k} <b>${h(v!)}</b></li>`).join('')}</ul>
</header>
${noKube ? '<p class="note">No Kubernetes component runs on this node: only host-level checks (kernel, ports, certificates, containers) judged anything; the CIS checks are skipped.</p>' : ''}
<section class="cards" aria-label="Summary">
<div class="card"><p class="label">Pass rate</p><p class="value" data-count="rate">${rate}</p></div>
${STATUSES.map((st) => `<div class="card"><p class="label">${statusBadge(st)}</p><p class="value" data-count="${st}">${s[st]}</p></div>`).join('\n')}
</section>
<p class="section-label" id="failing-label">Failing findings by severity</p>
<section class="cards" aria-labelledby="failing-label">
${failing.map(([sev, n]) => `<div class="card"><p class="label">${severityBadge(sev)}</p><p class="value" data-failing="${sev}">${n}</p></div>`).join('\n')}
</section>
<form class="filters" role="search" aria-label="Filter findings">
<fieldset><legend>Status</legend>${STATUS_ORDER.map((st) => `<button type="button" class="chip" data-k="status" data-v="${st}" aria-pressed="false">${STATUS_LABEL[st]}</button>`).join('')}</fieldset>
<fieldset><legend>Severity</legend>${SEVERITY_DESC.map((sev) => `<button type="button" class="chip" data-k="severity" data-v="${sev}" aria-pressed="false">${cap(sev)}</button>`).join('')}</fieldset>
<label><span class="muted">Search</span> <input id="q" type="search" placeholder="title, path, value, container…" autocomplete="off"></label>
<span class="muted"><b id="shown">${report.findings.length}</b> of ${report.findings.length} findings</span>
</form>
<p id="none" class="empty" hidden>No finding matches these filters.</p>
${groups.length ? groups.map(([component, list]) => group(component, list)).join('\n') : '<p class="empty">This scan has no findings.</p>'}
<footer>vigil-agent scan --format html · ${report.findings.length} findings · this file makes no network request.</footer>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
