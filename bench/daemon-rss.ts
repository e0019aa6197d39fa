// The real daemon for 1,000 fast rounds with nothing changing: RSS, writes and reloads.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, terminate } from '../test/support/netns.js';
import { startNamed } from '../test/support/named.js';
import { startServices } from '../test/support/services.js';
import { parsePrefix, synthesize } from '../src/config/prefix.js';
import { report } from './lib.js';

// BENCH_CLI: measure another build of the CLI (e.g. the Debian package's bundle).
const CLI = process.env.BENCH_CLI ?? fileURLToPath(new URL('../bin/nat64-health.js', import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 1000);

export async function benchDaemonRss(): Promise<void> {
  const ns = await createNetns('bench-rss');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-bench-rss-'));
  try {
    const services = await startServices(ns, { tcpPorts: [80] });
    const named = await startNamed({ netns: ns, listen: '2001:db8:53::1', mode: 'include' });
    try {
      const prefixes = ['2001:db8:64:a::/96', '2001:db8:64:b::/96', '2001:db8:64:c::/64'];
      for (const p of prefixes) await ns.addAddress(`${synthesize(parsePrefix(p), '192.0.2.10')}/128`);
      const state = path.join(dir, 'state.json');
      const config = path.join(dir, 'config.yaml');
      writeFileSync(
        config,
        `prefixes: [${prefixes.join(', ')}]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { interval: 10ms, fast_interval: 10ms, timeout: 10ms }
bind:
  output: ${named.includeFile}
  checkconf: ${JSON.stringify(named.checkconfArgv)}
  reload: ${JSON.stringify([...named.rndcArgv, 'reconfig'])}
  verify: { server: "${named.listen}", port: ${named.port} }
state_file: ${state}
`,
      );
      const log = path.join(dir, 'daemon.log');
      const child = ns.spawn([CLI, 'run', '-c', config, '--log-format', 'json'], { logFile: log });
      const round = () => {
        try {
          return (JSON.parse(readFileSync(state, 'utf8')) as { round: number }).round;
        } catch {
          return 0;
        }
      };
      const start = Date.now();
      while (round() < 5) await new Promise((r) => setTimeout(r, 50));
      const firstMtime = statSync(named.includeFile).mtimeMs;
      const appliesSoFar = () =>
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"msg":"applied to local"')).length;
      const settledApplies = appliesSoFar();
      const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
      const early = rss();
      while (round() < ROUNDS) await new Promise((r) => setTimeout(r, 200));
      const seconds = (Date.now() - start) / 1000;
      const final = rss();
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
      await terminate(child);
      const applies = appliesSoFar() - settledApplies;
      report(`daemon: ${ROUNDS} rounds, 3 prefixes, nothing changing (${seconds.toFixed(1)} s)`, [
        ['RSS after 5 rounds', `${early.toFixed(1)} MB`],
        [`RSS after ${ROUNDS} rounds`, `${final.toFixed(1)} MB`, '<= 80 MB'],
        ['peak RSS (VmHWM)', `${hwm.toFixed(1)} MB`],
        [`applies (writes + reloads) in rounds 5..${ROUNDS}`, applies, '0'],
        ['include file rewritten in those rounds', statSync(named.includeFile).mtimeMs === firstMtime ? 'no' : 'YES'],
      ]);
    } finally {
      await named.stop();
      await services.stop();
    }
  } finally {
    await ns.destroy();
  }
}
