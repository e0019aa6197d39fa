// The real daemon at the fast profile (5 rounds a second, 3 prefixes x 3 targets), nothing changing:
// its CPU share of one core, its RSS, and how often it wrote the state file. Measured twice: as
// the Debian package runs it (the bundle, whose figures the targets are about) and from the
// development tree (dist/, one module file per source file, for comparison).
// Alone: `npx tsx bench/daemon-fast.ts` (needs root and a build); FAST_SECONDS sets the length.
import { readFileSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { DIST_CLI, withBenchDaemon, type BenchDaemon } from './daemon-world.js';
import { packageCli, report } from './lib.js';

const SECONDS = Number(process.env.FAST_SECONDS ?? 60);
const TICKS = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux

/** utime + stime of a process, in seconds */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

async function measureFast(build: string, cli: string): Promise<void> {
  const lines = [
    'probes:',
    ...[80, 81, 82].map((port) => `  - { type: tcp, address: 192.0.2.10, port: ${port} }`),
    'health: { interval: 200ms, fast_interval: 100ms, timeout: 100ms, rise: 2, fall: 3 }',
    'select: { max_active: 2 }',
  ];
  const measure = async ({ child, state, round, memory }: BenchDaemon) => {
    const pid = child.pid!;
    while (round() < 10) await new Promise((r) => setTimeout(r, 100));
    // measure from a settled start: every prefix up, the set applied
    await new Promise((r) => setTimeout(r, 2000));
    const [cpu0, t0, round0] = [cpuSeconds(pid), performance.now(), round()];
    let writes = 0;
    let lastMtime = statSync(state).mtimeMs;
    const until = t0 + SECONDS * 1000;
    while (performance.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      const m = statSync(state).mtimeMs;
      if (m !== lastMtime) [writes, lastMtime] = [writes + 1, m];
    }
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    report(`daemon, fast profile (${build}): 200 ms rounds, 3 prefixes x 3 TCP targets, ${elapsed.toFixed(0)} s`, [
      ['rounds (state file round counter)', round() - round0],
      ['CPU, share of one core', `${((100 * cpu) / elapsed).toFixed(2)} %`, '<= 2 %'],
      ['RSS at the end', `${memory('VmRSS').toFixed(1)} MB`, '<= 60 MB'],
      ['peak RSS (VmHWM)', `${memory('VmHWM').toFixed(1)} MB`],
      ['state file writes per second', (writes / elapsed).toFixed(2), '<= 1 when nothing changes'],
    ]);
  };
  await withBenchDaemon('bench-fast', [80, 81, 82], lines, measure, cli);
}

export async function benchDaemonFast(): Promise<void> {
  if (process.env.BENCH_CLI) return measureFast(process.env.BENCH_CLI, process.env.BENCH_CLI);
  const pkg = packageCli();
  try {
    await measureFast("the Debian package's bundle", pkg);
  } finally {
    rmSync(path.dirname(pkg), { recursive: true, force: true });
  }
  await measureFast('the development tree, dist/', DIST_CLI);
}

// run alone (npm run bench runs it with the others)
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await benchDaemonFast();
