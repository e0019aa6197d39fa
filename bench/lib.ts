// Small helpers shared by the benchmarks: they print figures, they never assert times.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliNodeFlags } from './cli-flags.mjs';

export { cliNodeFlags };
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

/**
 * The CLI as the Debian package installs it: dist/ bundled by scripts/bundle.mjs (lib/ with its
 * chunks, templates/ and package.json beside it) and a wrapper that runs it on this node with the
 * CLI's V8 flags, as debian/rules writes /usr/bin/nat64-health. Returns the wrapper's path.
 */
export function packageCli(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-bench-pkg-'));
  execFileSync(process.execPath, ['scripts/bundle.mjs', dir], { cwd: root, stdio: 'inherit' });
  cpSync(path.join(root, 'templates'), path.join(dir, 'templates'), { recursive: true });
  const wrapper = path.join(dir, 'nat64-health');
  const argv = [process.execPath, ...cliNodeFlags(), path.join(dir, 'lib', 'cli.mjs')];
  writeFileSync(wrapper, `#!/bin/sh\nexec ${argv.join(' ')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}
