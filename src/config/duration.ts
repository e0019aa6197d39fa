// Durations in config: "500ms", "5s", "2m", "1h", "1d" or a plain number of seconds.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or an error message suitable for a config error. */
export function parseDuration(value: unknown): number | string {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : `${value} is not a duration`;
  }
  if (typeof value !== 'string') return 'expected a duration such as "500ms", "5s", "2m" or a number of seconds';
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) return `"${value}" is not a duration (use e.g. "500ms", "5s", "2m", "1h")`;
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}
