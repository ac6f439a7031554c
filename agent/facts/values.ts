// Reading a setting's value the way the component reads it: text from a flag or the environment (Go's parsers),
// or a typed value from a config file. Go booleans and durations are common/bool.ts and common/duration.ts.

/** Integer text as Go's strconv.Atoi accepts it, or an integer from a config file; undefined otherwise. */
export function parseInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string' || !/^[+-]?\d+$/.test(value.trim())) return undefined;
  return Number.parseInt(value.trim(), 10);
}

/** A number from a config file, or integer text from a flag (Atoi); undefined otherwise. */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return parseInteger(value);
}

/** A list from a config file, or comma-separated text; blanks dropped. Undefined when the value is neither. */
export function asList(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String).map((v) => v.trim()).filter(Boolean);
  if (typeof value === 'string') return value.split(',').map((v) => v.trim()).filter(Boolean);
  return undefined;
}

export const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';
