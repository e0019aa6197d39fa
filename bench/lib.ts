import { readFileSync } from 'node:fs';
// Small helpers shared by the benchmarks: they print figures, they never assert times.
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export function report(title: string, rows: Array<[string, string | number, string?]>): void {
  console.log(`\n## ${title}`);
  for (const [name, value, target] of rows)
    console.log(`${name.padEnd(44)} ${String(value).padStart(12)}${target ? `   (target ${target})` : ''}`);
}

/** The V8 flags the CLI runs with (its shebang line), so benchmarks measure what operators run. */
export function cliNodeFlags(): string[] {
  const first = readFileSync(new URL('../bin/nat64-health.js', import.meta.url), 'utf8').split('\n')[0]!;
  return first
    .replace(/^#!.*?\bnode\b/, '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
}
