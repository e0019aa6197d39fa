// The V8 flags the CLI runs with: those of its "#!/usr/bin/env -S node ..." line, which the Debian
// package's wrapper uses too. Benchmarks (TypeScript and plain node ones) run the daemon with them,
// so that they measure what operators run.
import { readFileSync } from 'node:fs';

/** @returns {string[]} */
export function cliNodeFlags() {
  const first = readFileSync(new URL('../bin/nat64-health.js', import.meta.url), 'utf8').split('\n')[0];
  return first
    .replace(/^#!.*?\bnode\b/, '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
}
