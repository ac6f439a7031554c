import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { escapeHtml, render } from '../../../agent/report/html.js';
import { renderReport } from '../../../agent/report/index.js';
import { controlPlaneReport, noKubernetesReport } from './sample-report.js';
import { hostileReport } from '../../integration/dashboard/hostile-report.js';

describe('html report', () => {
  it('escapes the five characters that end HTML text or a quoted attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(escapeHtml('plain text / path:1')).toBe('plain text / path:1');
  });

  it('never lets host data open a tag: one <script> (its own), no <img>, every hostile string shown as text', () => {
    const html = render(hostileReport());
    expect(html.match(/<script\b/gi)).toHaveLength(1);
    expect(html).not.toMatch(/<img\b/i);
    expect(html).not.toMatch(/<b>x<\/b>/);
    expect(html).not.toContain('</textarea>');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('ns&quot;&#39;&gt;&lt;b&gt;x&lt;/b&gt;');
    expect(html).toContain('&lt;/dd&gt;&lt;/dl&gt;&lt;script&gt;x()&lt;/script&gt;');
    // Control characters are made visible, as in the table, not sent to the page raw.
    expect(html).toContain('bell\\x07 and\\x1b[31m escape');
    expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });

  it('allows only its own inline style and script, by hash, and no network at all', () => {
    const html = render(controlPlaneReport());
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const hash = (t: string): string => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('carries the summary, one row per finding grouped by component, evidence and remediation', () => {
    const r = controlPlaneReport();
    const html = renderReport('html', r);
    expect(html.endsWith('</html>\n')).toBe(true);
    for (const s of ['pass', 'fail', 'warn', 'skip', 'error'] as const) {
      expect(html).toContain(`data-count="${s}">${r.summary[s]}</p>`);
    }
    expect(html.match(/<tr class="f"/g)).toHaveLength(r.findings.length);
    const groups = [...html.matchAll(/<section class="group" data-component="([^"]+)"/g)].map((m) => m[1]);
    expect(groups).toEqual([...new Set(r.findings.map((f) => f.component))]);
    expect(html).toContain('<dt>key</dt><dd>authentication.anonymous.enabled</dd>');
    expect(html).toContain('Set --anonymous-auth=false in &lt;kube-apiserver.yaml&gt; &amp; restart &quot;it&quot;.');
    expect(html).toContain('data-failing="critical">2</p>');
  });

  it('says when no Kubernetes component runs on the node', () => {
    expect(render(noKubernetesReport())).toContain('No Kubernetes component runs on this node');
    expect(render(controlPlaneReport())).not.toContain('No Kubernetes component runs on this node');
  });
});
