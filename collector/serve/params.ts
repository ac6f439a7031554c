// Query parameters as data: one spec list per route drives both validation (400 naming the parameter) and the
// OpenAPI document, so the two cannot disagree.
import { parseDuration } from './options.js';

export type ParamSpec =
  | { name: string; description: string; type: 'string'; maxLength?: number; pattern?: RegExp }
  | { name: string; description: string; type: 'integer'; min: number; max: number; default?: number }
  | { name: string; description: string; type: 'enum'; values: readonly string[]; default?: string }
  | { name: string; description: string; type: 'enumList'; values: readonly string[] }
  | { name: string; description: string; type: 'time' }
  | { name: string; description: string; type: 'cursor' };

export class BadParameter extends Error {
  constructor(readonly parameter: string, message: string) {
    super(`parameter "${parameter}": ${message}`);
    this.name = 'BadParameter';
  }
}

/** An RFC 3339 time or a duration back from now (`24h`, `7d`). */
export function parseTime(text: string, name: string, now: number): number {
  if (/^\d+(\.\d+)?(ms|s|m|h|d|w)/.test(text)) {
    try { return now - parseDuration(text, name); } catch { /* fall through to the message below */ }
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return t;
  }
  throw new BadParameter(name, `"${text}" is neither an RFC 3339 time nor a duration like 24h`);
}

export function parseParams(specs: readonly ParamSpec[], query: Record<string, unknown>, now = Date.now()): Record<string, unknown> {
  const known = new Set(specs.map((s) => s.name));
  for (const key of Object.keys(query)) {
    if (!known.has(key)) throw new BadParameter(key, `unknown parameter (known: ${[...known].join(', ') || 'none'})`);
  }
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const raw = query[spec.name];
    if (raw === undefined) {
      if ('default' in spec && spec.default !== undefined) out[spec.name] = spec.default;
      continue;
    }
    if (typeof raw !== 'string') throw new BadParameter(spec.name, 'must be given once');
    out[spec.name] = parseOne(spec, raw, now);
  }
  return out;
}

function parseOne(spec: ParamSpec, raw: string, now: number): unknown {
  const { name } = spec;
  switch (spec.type) {
    case 'string': {
      const max = spec.maxLength ?? 256;
      if (raw.length === 0 || raw.length > max) throw new BadParameter(name, `must be 1 to ${max} characters`);
      if (spec.pattern && !spec.pattern.test(raw)) throw new BadParameter(name, `must match ${spec.pattern.source}`);
      return raw;
    }
    case 'integer': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < spec.min || n > spec.max) {
        throw new BadParameter(name, `must be an integer from ${spec.min} to ${spec.max}`);
      }
      return n;
    }
    case 'enum':
      if (!spec.values.includes(raw)) throw new BadParameter(name, `must be one of ${spec.values.join(', ')}`);
      return raw;
    case 'enumList': {
      const items = raw.split(',').map((s) => s.trim());
      const bad = items.filter((s) => !spec.values.includes(s));
      if (bad.length || items.length === 0) throw new BadParameter(name, `must be a comma-separated list of ${spec.values.join(', ')}`);
      return [...new Set(items)];
    }
    case 'time':
      return parseTime(raw, name, now);
    case 'cursor':
      if (raw.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw new BadParameter(name, 'not a cursor from a previous page');
      return raw;
  }
}

/** OpenAPI 3.1 parameter objects for a spec list. */
export function openApiParameters(specs: readonly ParamSpec[]): unknown[] {
  return specs.map((s) => {
    let schema: Record<string, unknown>;
    switch (s.type) {
      case 'string': schema = { type: 'string', maxLength: s.maxLength ?? 256, ...(s.pattern ? { pattern: s.pattern.source } : {}) }; break;
      case 'integer': schema = { type: 'integer', minimum: s.min, maximum: s.max, ...(s.default === undefined ? {} : { default: s.default }) }; break;
      case 'enum': schema = { type: 'string', enum: s.values, ...(s.default === undefined ? {} : { default: s.default }) }; break;
      case 'enumList': schema = { type: 'string', description: `comma-separated: ${s.values.join(', ')}` }; break;
      case 'time': schema = { type: 'string', description: 'RFC 3339 time or a duration back from now (24h, 7d)' }; break;
      case 'cursor': schema = { type: 'string', description: 'nextCursor of the previous page' }; break;
    }
    return { name: s.name, in: 'query', required: false, description: s.description, schema };
  });
}
