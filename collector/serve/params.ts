// Query parameters as zod schemas: one schema per route validates (a 400 naming the parameter), types the handler's
// input and documents the parameter in the OpenAPI document, so the three cannot disagree.
import { z } from 'zod';
import { parseDuration } from '../../common/duration.js';

export class BadParameter extends Error {
  constructor(readonly parameter: string, message: string) {
    super(`parameter "${parameter}": ${message}`);
    this.name = 'BadParameter';
  }
}

/** A repeated parameter (`node=a&node=b`) arrives as an array. */
const givenOnce = { error: (issue: { input?: unknown }) => (issue.input === undefined ? undefined : 'must be given once') };

function text(description: string, opts: { maxLength?: number; pattern?: RegExp } = {}) {
  const max = opts.maxLength ?? 256;
  const length = `must be 1 to ${max} characters`;
  let schema = z.string(givenOnce).min(1, length).max(max, length);
  if (opts.pattern) schema = schema.regex(opts.pattern, `must match ${opts.pattern.source}`);
  return schema.optional().describe(description);
}

function integer(description: string, opts: { min: number; max: number; default: number }) {
  const { min, max } = opts;
  const message = `must be an integer from ${min} to ${max}`;
  return z.string(givenOnce)
    .transform((raw, ctx) => {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
      ctx.issues.push({ code: 'custom', message, input: raw });
      return z.NEVER;
    })
    // The query string is text; documented as the integer it must spell. (zod leaves `default` out of the input
    // side of a transform, so the description names it.)
    .meta({ type: 'integer', minimum: min, maximum: max })
    .default(opts.default)
    .describe(`${description} (default ${opts.default})`);
}

function enumOf<const T extends readonly [string, ...string[]]>(values: T) {
  const message = `must be one of ${values.join(', ')}`;
  return z.enum(values, { error: (issue) => (typeof issue.input === 'string' ? message : 'must be given once') });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, description: string) {
  return enumOf(values).optional().describe(description);
}

function oneOfOr<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number], description: string) {
  return enumOf(values).default(fallback).describe(description);
}

function listOf<const T extends readonly [string, ...string[]]>(values: T, description: string) {
  const message = `must be a comma-separated list of ${values.join(', ')}`;
  const known = new Set<string>(values);
  const isKnown = (s: string): s is T[number] => known.has(s);
  return z.string(givenOnce)
    .transform((raw, ctx) => {
      const items = raw.split(',').map((s) => s.trim());
      if (items.every(isKnown)) return [...new Set(items)];
      ctx.issues.push({ code: 'custom', message, input: raw });
      return z.NEVER;
    })
    .optional()
    .describe(`${description} (comma-separated: ${values.join(', ')})`);
}

/** A point in time as given: an RFC 3339 time, or a duration back from the request's now. */
export type TimeBound = { at: number } | { ago: number };

export function timeFrom(bound: TimeBound, now: number): number {
  return 'at' in bound ? bound.at : now - bound.ago;
}

/** `2025-01-01T00:00:00Z`, or a duration with a unit (`90s`, `24h`, `7d`); a bare number is neither. */
function parseTimeBound(raw: string): TimeBound | undefined {
  if (/^\d+(\.\d+)?(ms|s|m|h|d|w)/.test(raw)) {
    try { return { ago: parseDuration(raw) }; } catch { /* neither: the caller says so */ }
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
    const at = Date.parse(raw);
    if (!Number.isNaN(at)) return { at };
  }
  return undefined;
}

function time(description: string) {
  return z.string(givenOnce)
    .transform((raw, ctx) => {
      const bound = parseTimeBound(raw);
      if (bound) return bound;
      ctx.issues.push({ code: 'custom', message: `"${raw}" is neither an RFC 3339 time nor a duration like 24h`, input: raw });
      return z.NEVER;
    })
    .optional()
    .describe(`${description}: an RFC 3339 time or a duration back from now (24h, 7d)`);
}

export const NOT_A_CURSOR = 'not a cursor from a previous page';

function cursor() {
  return z.string(givenOnce).max(2048, NOT_A_CURSOR).regex(/^[A-Za-z0-9_-]+$/, NOT_A_CURSOR).optional()
    .describe('nextCursor of the previous page');
}

/** The parameter kinds every route's query schema is built from. */
export const param = { text, integer, oneOf, oneOfOr, listOf, time, cursor };

/** A route's query: only the given parameters; any other is a bad parameter. */
export const query = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape);

/** The query of a route that takes no parameters. */
export const NO_PARAMS = query({});

/** The parameter a failed query or path validation is about, with the message a client can act on. */
export function badParameter(schema: unknown, error: z.ZodError): BadParameter {
  const unknown = error.issues.find((i): i is z.core.$ZodIssueUnrecognizedKeys => i.code === 'unrecognized_keys');
  if (unknown) {
    const known = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    return new BadParameter(unknown.keys[0], `unknown parameter (known: ${known.join(', ') || 'none'})`);
  }
  const [first] = error.issues;
  return new BadParameter(String(first.path[0] ?? '(query)'), first.message);
}
