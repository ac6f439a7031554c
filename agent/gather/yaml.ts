// YAML/JSON config parsing for gather: never throws, bounded in aliases (billion-laughs), objects only.
import { parse } from 'yaml';

type YamlResult = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

export function parseConfig(text: string): YamlResult {
  try {
    const value: unknown = parse(text, { maxAliasCount: 100, prettyErrors: false });
    if (value === null || value === undefined) return { ok: true, value: {} };
    if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'expected a mapping at the top level' };
    return { ok: true, value: value as Record<string, unknown> };
  } catch (err) {
    return { ok: false, message: (err as Error).message.split('\n')[0] };
  }
}

/** For HostAccess.readDerived: the result is cached across scans, so callers must not mutate it. */
export function parseConfigBytes(data: Buffer): YamlResult {
  return parseConfig(data.toString('utf8'));
}

export function parseYamlObject(text: string): Record<string, unknown> | undefined {
  const r = parseConfig(text);
  return r.ok ? r.value : undefined;
}

/**
 * What went wrong in a JSON.parse, without the text around it: Node quotes a snippet of the input in its
 * messages, and the input may be an OCI spec holding env values or a config holding credentials.
 */
export function jsonErrorSummary(err: unknown): string {
  const position = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  return position ? `invalid JSON at position ${position[1]}` : 'invalid JSON';
}
