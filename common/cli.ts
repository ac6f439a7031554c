// Command-line glue for the common parsers: commander wants an InvalidArgumentError to print a clean
// "option '--x <v>' argument 'y' is invalid. <message>".
import { InvalidArgumentError } from 'commander';
import { parseHostPort } from './address.js';
import { parseDuration } from './duration.js';
import { parseSize } from './size.js';

/** Wraps a parser so its error becomes commander's InvalidArgumentError (same message). */
export function argParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try { return parse(text); } catch (err) { throw new InvalidArgumentError((err as Error).message); }
  };
}

/** A duration option (`90`, `90s`, `1h30m`, `7d`) that must be positive; milliseconds. */
export const positiveDurationArg = argParser((text: string): number => {
  const ms = parseDuration(text);
  if (ms < 1) throw new Error(`duration ${JSON.stringify(text)} is too short`);
  return ms;
});

/** A size option (bytes, `64Mi`, `64MB`) that must be positive; bytes. */
export const positiveSizeArg = argParser((text: string): number => {
  const bytes = parseSize(text);
  if (bytes < 1) throw new Error(`size ${JSON.stringify(text)} is too small`);
  return bytes;
});

/** A listen or dial address option (`host:port`, `[v6]:port`, `:port`), checked and kept as text. */
export const hostPortArg = argParser((text: string): string => { parseHostPort(text); return text; });
