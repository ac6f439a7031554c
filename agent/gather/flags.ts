// Command-line flags as the components themselves read them: spf13/pflag v1.0.5 for the Kubernetes components, Go's
// standard `flag` package for etcd (/work/research/flags/PARSING.md has the rules, read from source and tested). What
// a component would refuse to start with is reported, never guessed into a value a check could pass on.
import { isIP } from 'node:net';
import { parseGoBool } from '../../common/bool.js';
import { parseGoDuration } from '../../common/duration.js';
import type { ArgvProblem, ComponentName, DiscoveredComponent, FlagMap, Setting } from '../facts/snapshot.js';
import { FLAG_TABLES } from './flag-tables.js';

/** How a flag's parser reads its value; see flag-tables.ts. */
export type FlagType =
  | 'bool' | 'flag' | 'int' | 'int32' | 'int64' | 'uint' | 'uint32' | 'uint64' | 'float32' | 'float64'
  | 'duration' | 'Level' | 'ip' | 'mapStringBool' | 'string';

type TableComponent = keyof typeof FLAG_TABLES;

const tables = new Map<TableComponent, Map<string, FlagType>>();

/** The flags a component defines, by name (dashes), with the type its parser reads. */
function flagTable(component: TableComponent): Map<string, FlagType> {
  let table = tables.get(component);
  if (!table) {
    table = new Map();
    for (const [type, names] of Object.entries(FLAG_TABLES[component]) as [FlagType, string][]) {
      for (const name of names.split(/\s+/)) if (name) table.set(name, type);
    }
    tables.set(component, table);
  }
  return table;
}

const hasTable = (name: ComponentName): name is TableComponent => name in FLAG_TABLES;

/** The type a component's parser reads a flag as, when Vigil knows the flag. */
export function flagType(component: ComponentName, flag: string): FlagType | undefined {
  return hasTable(component) ? flagTable(component).get(flag) : undefined;
}

const ARGV_SHOWN = 64;
const ARG_CHARS = 512;

/** A command line for evidence: bounded, since a hostile one can be megabytes (URL userinfo is already removed). */
function boundedArgv(argv: readonly string[]): string[] {
  const shown = argv.slice(0, ARGV_SHOWN).map((a) => (a.length > ARG_CHARS ? `${a.slice(0, ARG_CHARS)}…` : a));
  return argv.length > ARGV_SHOWN ? [...shown, `… ${argv.length - ARGV_SHOWN} more arguments`] : shown;
}

/** `setting` with the reason its value cannot be known from `c`'s command line, when it cannot. */
export function withCommandLineError<T extends Setting>(c: DiscoveredComponent, flag: string | undefined, setting: T): T {
  const error = commandLineError(c, flag);
  return error ? { ...setting, error, commandLine: boundedArgv(c.argv) } : setting;
}

/**
 * Why a setting of `c` read from its command line cannot be known, if it cannot: the component would refuse the
 * command line, more than one process claims to be it, or the flag's value depends on a flag Vigil does not know.
 */
function commandLineError(c: DiscoveredComponent, flag: string | undefined): string | undefined {
  if (c.candidates && c.candidates.length > 1) {
    return `${c.candidates.length} processes claim to be ${c.name} (pids ${c.candidates.join(', ')}); Vigil cannot tell which one serves this node`;
  }
  const refused = c.argvProblems?.find((p) => p.kind === 'refused');
  if (refused) return `${c.name} would refuse this command line: ${refused.message}`;
  const unreadable = c.argvProblems?.find((p) => p.kind === 'unreadable');
  if (unreadable) return `the command line of ${c.name} could not be read: ${unreadable.message}`;
  const ambiguous = flag === undefined ? undefined : c.argvProblems?.find((p) => p.kind === 'ambiguous' && p.flag === flag);
  return ambiguous?.message;
}

/** Takes no argument: `--x` alone means true (pflag NoOptDefVal, Go flag IsBoolFlag). */
const isBoolLike = (type: FlagType | undefined): boolean => type === 'bool' || type === 'flag';

/** Boolean flags of every component, for the lenient parser of command lines Vigil has no table for. */
const ANY_BOOLEAN = new Set<string>([
  ...(Object.keys(FLAG_TABLES) as TableComponent[]).flatMap((c) => [...flagTable(c)].filter(([, t]) => t === 'bool').map(([n]) => n)),
  // Removed or distribution flags still seen on command lines.
  'kubelet-https', 'insecure-skip-tls-verify', 'cluster-init', 'disable-agent', 'secrets-encryption', 'selinux',
  'enforce-node-allocatable-ignored', 'enable-v2', 'debug', 'logtostderr', 'alsologtostderr',
]);

/**
 * A lenient reading for command lines without a flag table (runtimes, k3s/rke2's own flags): `--flag=value`,
 * `--flag value` (unless the next argument starts with `-`), bare boolean `--flag`, single-dash `-flag`. Repeats are
 * kept in order; positional arguments are ignored.
 */
export function parseFlags(args: readonly string[]): FlagMap {
  const flags: FlagMap = {};
  const add = (name: string, value: string) => (flags[name] ??= []).push(value);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') break;
    const m = /^--?([A-Za-z0-9][A-Za-z0-9._-]*)(?:=([\s\S]*))?$/.exec(arg);
    if (!m) continue;
    const [, name, inline] = m;
    if (inline !== undefined) { add(name, inline); continue; }
    const next = args[i + 1];
    if (!ANY_BOOLEAN.has(name) && next !== undefined && !next.startsWith('-')) {
      add(name, next);
      i++;
    } else {
      add(name, 'true');
    }
  }
  return flags;
}

interface ParsedArgs {
  flags: FlagMap;
  problems: ArgvProblem[];
}

/**
 * The flags of a component's arguments (after the command) as its own parser reads them. A command line the
 * component would refuse gives a `refused` problem; a value that depends on how a flag Vigil does not know is parsed
 * gives an `ambiguous` problem for the flag it may have swallowed. Components without a table are read leniently.
 *
 * Empty arguments are skipped: processes that rewrite their title pad /proc/PID/cmdline with NULs, so an empty
 * argument there is no evidence of a positional one.
 */
export function parseComponentArgs(component: ComponentName, args: readonly string[]): ParsedArgs {
  if (!hasTable(component)) return { flags: parseFlags(args), problems: [] };
  return component === 'etcd' ? parseGoFlag(args, flagTable('etcd')) : parsePflag(component, args, flagTable(component));
}

/** pflag's WordSepNormalizeFunc, which every Kubernetes component sets: `_` in a flag name is `-`. */
const normalise = (name: string): string => name.replace(/_/g, '-');

/** One-letter shorthands the components define: `-v` (log verbosity, component-base) and `-h` (help). */
const SHORTHANDS: Record<string, string> = { v: 'v', h: 'help' };

function parsePflag(component: TableComponent, args: readonly string[], table: Map<string, FlagType>): ParsedArgs {
  const flags: FlagMap = {};
  const problems: ArgvProblem[] = [];
  const refuse = (message: string, flag?: string): ParsedArgs => {
    problems.push({ kind: 'refused', message, ...(flag ? { flag } : {}) });
    return { flags, problems };
  };
  /** Records a value after checking it the way the flag's Value.Set does. */
  const set = (name: string, value: string, type: FlagType | undefined): string | undefined => {
    const invalid = type ? invalidValue(type, value) : undefined;
    if (invalid) return `invalid argument ${JSON.stringify(value)} for "--${name}" flag: ${invalid}`;
    (flags[name] ??= []).push(value);
    return undefined;
  };
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const s = args[i];
    if (s === '') continue;
    if (s === '--') { positionals.push(...args.slice(i + 1).filter((a) => a !== '')); break; }
    if (s[0] !== '-' || s === '-') { positionals.push(s); continue; }
    if (s.startsWith('--')) {
      const body = s.slice(2);
      if (body === '' || body[0] === '-' || body[0] === '=') return refuse(`bad flag syntax: ${s}`);
      const eq = body.indexOf('=');
      const name = normalise(eq >= 0 ? body.slice(0, eq) : body);
      const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
      const type = table.get(name);
      if (name === 'help') return refuse(`${s}: ${component} prints its help and exits`, name);
      if (type === undefined) {
        // Not in Vigil's table, which may lack a flag of a newer release: read it, and say where that is a guess.
        if (inline !== undefined) { set(name, inline, undefined); continue; }
        const next = args[i + 1];
        if (next !== undefined && next !== '' && !next.startsWith('-')) {
          // As a boolean it would leave `next` positional, which every component refuses: so it took the value.
          set(name, next, undefined);
          i++;
          continue;
        }
        set(name, 'true', undefined);
        const swallowed = next === undefined || next === '--' || !next.startsWith('-') ? undefined
          : next.startsWith('--') ? normalise(next.slice(2).split('=')[0]) : SHORTHANDS[next[1]];
        if (swallowed) {
          problems.push({
            kind: 'ambiguous', flag: swallowed,
            message: `${next} follows --${name}, a flag Vigil does not know: if --${name} takes a value, ${next} is that value and --${swallowed} is not set there`,
          });
        }
        continue;
      }
      let value: string;
      if (inline !== undefined) value = inline;
      else if (isBoolLike(type)) value = 'true';
      else if (i + 1 < args.length) value = args[++i]; // whatever it looks like, even `--other=x`
      else return refuse(`flag needs an argument: --${name}`, name);
      const invalid = set(name, value, type);
      if (invalid) return refuse(invalid, name);
      continue;
    }
    // `-abc`: a run of one-letter shorthands; pflag has no single-dash long flags.
    for (let j = 1; j < s.length; j++) {
      const letter = s[j];
      const name = SHORTHANDS[letter];
      if (name === undefined) return refuse(`unknown shorthand flag: '${letter}' in ${s}`);
      if (name === 'help') return refuse(`${s}: ${component} prints its help and exits`, name);
      let value: string;
      if (s[j + 1] === '=') value = s.slice(j + 2);
      else if (j + 1 < s.length) value = s.slice(j + 1);
      else if (i + 1 < args.length) value = args[++i];
      else return refuse(`flag needs an argument: '${letter}' in ${s}`, name);
      const invalid = set(name, value, table.get(name));
      if (invalid) return refuse(invalid, name);
      break;
    }
  }
  if (positionals.length > 0) {
    return refuse(`${component} takes no arguments besides flags, got ${JSON.stringify(positionals.slice(0, 5))}`);
  }
  return { flags, problems };
}

/** Go's flag package (etcd): one or two dashes alike, parsing stops at the first non-flag, which etcd refuses. */
function parseGoFlag(args: readonly string[], table: Map<string, FlagType>): ParsedArgs {
  const flags: FlagMap = {};
  const problems: ArgvProblem[] = [];
  const refuse = (message: string, flag?: string): ParsedArgs => {
    problems.push({ kind: 'refused', message, ...(flag ? { flag } : {}) });
    return { flags, problems };
  };
  for (let i = 0; i < args.length; i++) {
    const s = args[i];
    if (s === '') continue;
    if (s.length < 2 || s[0] !== '-') return refuse(`'${s}' is not a valid flag (etcd stops reading flags there and refuses to start)`);
    const dashes = s[1] === '-' ? 2 : 1;
    if (dashes === 2 && s.length === 2) {
      const rest = args.slice(i + 1).filter((a) => a !== '');
      return rest.length > 0 ? refuse(`'${rest[0]}' is not a valid flag (after --)`) : { flags, problems };
    }
    const body = s.slice(dashes);
    if (body === '' || body[0] === '-' || body[0] === '=') return refuse(`bad flag syntax: ${s}`);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const type = table.get(name);
    if (type === undefined && (name === 'h' || name === 'help')) return refuse(`${s}: etcd prints its help and exits`, name);
    let value: string;
    if (inline !== undefined) value = inline;
    else if (type === undefined) {
      const next = args[i + 1];
      if (next !== undefined && next !== '' && !next.startsWith('-')) { value = next; i++; } else {
        value = 'true';
        if (next?.startsWith('-')) {
          const swallowed = next.replace(/^--?/, '').split('=')[0];
          problems.push({
            kind: 'ambiguous', flag: swallowed,
            message: `${next} follows ${s}, a flag Vigil does not know: if ${s} takes a value, ${next} is that value and -${swallowed} is not set`,
          });
        }
      }
    } else if (isBoolLike(type)) value = 'true';
    else if (i + 1 < args.length) value = args[++i];
    else return refuse(`flag needs an argument: -${name}`, name);
    const invalid = type ? invalidValue(type, value) : undefined;
    if (invalid) return refuse(`invalid value ${JSON.stringify(value)} for flag -${name}: ${invalid}`, name);
    (flags[name] ??= []).push(value);
  }
  return { flags, problems };
}

const INT_BITS: Partial<Record<FlagType, number>> = { int: 64, int64: 64, int32: 32, uint: 64, uint64: 64, uint32: 32 };

/** Why the flag's Value.Set would refuse the text, or undefined when it accepts it. */
export function invalidValue(type: FlagType, value: string): string | undefined {
  switch (type) {
    case 'bool':
      return parseGoBool(value) === undefined || value.trim() !== value ? 'not a boolean (strconv.ParseBool)' : undefined;
    case 'int': case 'int32': case 'int64': case 'uint': case 'uint32': case 'uint64': {
      const unsigned = type.startsWith('u');
      const n = unsigned && /^[+-]/.test(value) ? undefined : parseGoInteger(value);
      if (n === undefined) return `not an integer (strconv.Parse${type.startsWith('u') ? 'Uint' : 'Int'})`;
      const bits = BigInt(INT_BITS[type]!);
      const [min, max] = type.startsWith('u') ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
      return n < min || n > max ? `out of range for ${type}` : undefined;
    }
    case 'Level':
      return /^\d+$/.test(value) && BigInt(value) < 1n << 31n ? undefined : 'not a log level (a decimal number)';
    case 'float32': case 'float64':
      return /^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|inf(inity)?|nan)$/i.test(value) ? undefined : 'not a number (strconv.ParseFloat)';
    case 'duration':
      return parseGoDuration(value) === undefined || value.trim() !== value ? 'not a duration (time.ParseDuration, e.g. 30s, 5m, 1h30m)' : undefined;
    case 'ip':
      return isIP(value) === 0 ? 'not an IP address' : undefined;
    case 'mapStringBool':
      for (const item of value.split(',')) {
        if (item.trim() === '') continue;
        const eq = item.indexOf('=');
        if (eq < 0) return `missing bool value for ${item.trim()}`;
        if (parseGoBool(item.slice(eq + 1).trim()) === undefined) return `invalid value of ${item.slice(0, eq).trim()}: ${item.slice(eq + 1).trim()}`;
      }
      return undefined;
    case 'flag': case 'string':
      return undefined;
  }
}

/** strconv.ParseInt / ParseUint with base 0: a sign, 0x / 0o / 0b / 0 prefixes, `_` between digits. */
function parseGoInteger(text: string): bigint | undefined {
  const m = /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO]?(?:_?[0-7])+|[1-9](?:_?\d)*|0)$/.exec(text);
  if (!m) return undefined;
  let digits = m[2].replace(/_/g, '');
  if (/^0[0-7]/.test(digits)) digits = '0o' + digits.slice(1);
  const n = BigInt(digits.replace(/^0O/, '0o').replace(/^0X/, '0x').replace(/^0B/, '0b'));
  return m[1] === '-' ? -n : n;
}

/** The value a scalar flag takes: the last one given (pflag semantics). */
export function lastFlag(flags: FlagMap, name: string): string | undefined {
  const values = flags[name];
  return values && values.length > 0 ? values[values.length - 1] : undefined;
}

/** A list flag: comma-separated values, repeats appended (pflag StringSlice semantics). */
export function listFlag(flags: FlagMap, name: string): string[] | undefined {
  const values = flags[name];
  if (!values) return undefined;
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** `A=true,B=false` (the --feature-gates form) → { A: true, B: false }. */
export function parseFeatureGates(values: readonly string[]): Record<string, boolean> {
  const gates: Record<string, boolean> = {};
  for (const item of values.flatMap((v) => v.split(','))) {
    const [k, v] = item.split('=').map((s) => s.trim());
    if (!k) continue;
    const b = parseGoBool(v ?? 'true');
    if (b !== undefined) gates[k] = b;
  }
  return gates;
}

/** `--feature-gates` as a map of the text given for each gate: repeats merge, a later gate wins. */
export function featureGates(flags: FlagMap): Record<string, string> {
  const gates: Record<string, string> = {};
  for (const entry of listFlag(flags, 'feature-gates') ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    gates[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return gates;
}
