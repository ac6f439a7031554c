import { describe, expect, it } from 'vitest';
import { FORMATS, renderReport, type Format } from '../../../agent/report/index.js';
import { NodeReportSchema } from '../../../proto/report.js';
import { controlPlaneReport } from './sample-report.js';

describe('renderReport', () => {
  it('renders every format, each ending with a newline', () => {
    for (const format of FORMATS) {
      const out = renderReport(format, controlPlaneReport());
      expect(out.length, format).toBeGreaterThan(100);
      expect(out.endsWith('\n'), format).toBe(true);
    }
  });

  it('json is the report itself, valid against the schema the collector uses', () => {
    const parsed = NodeReportSchema.parse(JSON.parse(renderReport('json', controlPlaneReport())));
    expect(parsed.findings).toHaveLength(10);
  });

  it('refuses an unknown format with a clear error', () => {
    expect(() => renderReport('yaml' as Format, controlPlaneReport())).toThrow(/unknown format yaml; known: table, json/);
  });
});
