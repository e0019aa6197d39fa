// The real daemon at the fast profile (5 rounds a second, 3 prefixes x 3 targets), nothing changing:
// its CPU share of one core, its RSS, and how often it wrote the state file.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, terminate } from '../test/support/netns.js';
import { startNamed } from '../test/support/named.js';
import { startServices } from '../test/support/services.js';
import { parsePrefix, synthesize } from '../src/config/prefix.js';
import { report } from './lib.js';

const CLI = process.env.BENCH_CLI ?? fileURLToPath(new URL('../bin/nat64-health.js', import.meta.url));
const SECONDS = Number(process.env.FAST_SECONDS ?? 60);
const TICKS = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux

/** utime + stime of a process, in seconds */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export async function benchDaemonFast(): Promise<void> {
  const ns = await createNetns('bench-fast');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-bench-fast-'));
  try {
    const services = await startServices(ns, { tcpPorts: [80, 81, 82] });
    const named = await startNamed({ netns: ns, listen: '2001:db8:53::1', mode: 'include' });
    try {
      const prefixes = ['2001:db8:64:a::/96', '2001:db8:64:b::/96', '2001:db8:64:c::/64'];
      for (const p of prefixes) await ns.addAddress(`${synthesize(parsePrefix(p), '192.0.2.10')}/128`);
      const state = path.join(dir, 'state.json');
      const config = path.join(dir, 'config.yaml');
      writeFileSync(
        config,
        [
          `prefixes: [${prefixes.join(', ')}]`,
          'probes:',
          ...[80, 81, 82].map((port) => `  - { type: tcp, address: 192.0.2.10, port: ${port} }`),
          'health: { interval: 200ms, fast_interval: 100ms, timeout: 100ms, rise: 2, fall: 3 }',
          'select: { max_active: 2 }',
          'bind:',
          `  output: ${named.includeFile}`,
          `  checkconf: ${JSON.stringify(named.checkconfArgv)}`,
          `  reload: ${JSON.stringify([...named.rndcArgv, 'reconfig'])}`,
          `  verify: { server: "${named.listen}", port: ${named.port} }`,
          `state_file: ${state}`,
          '',
        ].join('\n'),
      );
      const child = ns.spawn([CLI, 'run', '-c', config, '--log-format', 'json'], {
        logFile: path.join(dir, 'daemon.log'),
      });
      const pid = child.pid!;
      const round = () => {
        try {
          return (JSON.parse(readFileSync(state, 'utf8')) as { round: number }).round;
        } catch {
          return 0;
        }
      };
      while (round() < 10) await new Promise((r) => setTimeout(r, 100));
      const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
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
      const rounds = round() - round0;
      const [final, hwm] = [
        rss(),
        Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024,
      ];
      await terminate(child);
      report(`daemon, fast profile: 200 ms rounds, 3 prefixes x 3 TCP targets, ${elapsed.toFixed(0)} s`, [
        ['rounds (state file round counter)', rounds],
        ['CPU, share of one core', `${((100 * cpu) / elapsed).toFixed(2)} %`, '<= 2 %'],
        ['RSS at the end', `${final.toFixed(1)} MB`, '<= 60 MB'],
        ['peak RSS (VmHWM)', `${hwm.toFixed(1)} MB`],
        ['state file writes per second', (writes / elapsed).toFixed(2), '<= 1 when nothing changes'],
      ]);
    } finally {
      await named.stop();
      await services.stop();
    }
  } finally {
    await ns.destroy();
  }
}
