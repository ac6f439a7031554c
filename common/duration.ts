// Durations as people write them on every Vigil command line: `90` (seconds), `90s`, `500ms`, `1h30m`, `7d`, `2w`.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds, or throws with a message naming what was given. A bare number is seconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return checked(Number(t) * 1_000, text);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
    throw new Error(`"${text}" is not a duration (e.g. 90, 90s, 500ms, 1h30m, 7d)`);
  }
  return checked(parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]], 0), text);
}

function checked(ms: number, text: string): number {
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) throw new Error(`"${text}" is too long a duration`);
  return Math.round(ms);
}

/** The shortest exact spelling: 30000 → `30s`, 300000 → `5m`, 5400000 → `1h30m`, 250 → `250ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['w', 'd', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/**
 * Go's time.ParseDuration, which is what Kubernetes components accept in flags and config files
 * (`1h30m`, `300ms`, `-1.5h`, `0`; units ns, us, µs, ms, s, m, h; no days). Milliseconds, or undefined.
 */
export function parseGoDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0' || t === '+0' || t === '-0') return 0;
  const m = /^([+-]?)((?:\d*\.?\d+(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(t);
  if (!m) return undefined;
  const scale: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const p of m[2].matchAll(/(\d*\.?\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(p[1]) * scale[p[2]];
  return m[1] === '-' ? -total : total;
}
