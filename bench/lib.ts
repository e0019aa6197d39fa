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
  for (const [name, value, target] of rows) console.log(`${name.padEnd(44)} ${String(value).padStart(12)}${target ? `   (target ${target})` : ''}`);
}
