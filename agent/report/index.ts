// Output formats of `vigil-agent scan`. Each renderer turns a NodeReport into the text printed on stdout.
import type { NodeReport } from '../../proto/report.js';
import { render as renderTable } from './table.js';
import { render as renderJunit } from './junit.js';
import { render as renderSarif } from './sarif.js';
import { render as renderKubeBench } from './kube-bench.js';
import { render as renderHtml } from './html.js';

export const FORMATS = ['table', 'json', 'junit', 'sarif', 'kube-bench', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  /** Colour for a TTY (table only). */
  color?: boolean;
  /** The terminal's width (table only; default 120). */
  width?: number;
  /** Evidence source, path and key, remediation of warnings, skips one by one (table only). */
  details?: boolean;
}

export function renderReport(format: Format, report: NodeReport, opts: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'table':
      return renderTable(report, opts);
    case 'junit':
      return renderJunit(report);
    case 'sarif':
      return renderSarif(report);
    case 'kube-bench':
      return renderKubeBench(report);
    case 'html':
      return renderHtml(report);
    default:
      throw new Error(`unknown format ${String(format)}; known: ${FORMATS.join(', ')}`);
  }
}
