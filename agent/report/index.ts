// Output formats of `vigil-agent scan`. Each renderer turns a NodeReport into the text printed on stdout.
import type { NodeReport } from '../../proto/report.js';

export const FORMATS = ['table', 'json', 'junit', 'sarif', 'kube-bench'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  /** Colour for a TTY (table only). */
  color?: boolean;
}

export function renderReport(format: Format, report: NodeReport, _opts: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    default:
      throw new Error(`format ${format} is not implemented yet`);
  }
}
