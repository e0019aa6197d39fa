// The real daemon for 1,000 fast rounds with nothing changing: RSS, writes and reloads.
import { readFileSync, statSync } from 'node:fs';
import { withBenchDaemon } from './daemon-world.js';
import { report } from './lib.js';

const ROUNDS = Number(process.env.ROUNDS ?? 1000);

export async function benchDaemonRss(): Promise<void> {
  const lines = [
    'probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]',
    // the shortest rounds the schema allows
    'health: { interval: 100ms, fast_interval: 100ms, timeout: 100ms }',
  ];
  await withBenchDaemon('bench-rss', [80], lines, async ({ named, log, round, memory }) => {
    const start = Date.now();
    while (round() < 5) await new Promise((r) => setTimeout(r, 50));
    const firstMtime = statSync(named.includeFile).mtimeMs;
    const appliesSoFar = () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"msg":"applied to local"')).length;
    const settledApplies = appliesSoFar();
    const early = memory('VmRSS');
    while (round() < ROUNDS) await new Promise((r) => setTimeout(r, 200));
    const seconds = (Date.now() - start) / 1000;
    const [final, hwm] = [memory('VmRSS'), memory('VmHWM')];
    const applies = appliesSoFar() - settledApplies;
    report(`daemon: ${ROUNDS} rounds, 3 prefixes, nothing changing (${seconds.toFixed(1)} s)`, [
      ['RSS after 5 rounds', `${early.toFixed(1)} MB`],
      [`RSS after ${ROUNDS} rounds`, `${final.toFixed(1)} MB`, '<= 80 MB'],
      ['peak RSS (VmHWM)', `${hwm.toFixed(1)} MB`],
      [`applies (writes + reloads) in rounds 5..${ROUNDS}`, applies, '0'],
      ['include file rewritten in those rounds', statSync(named.includeFile).mtimeMs === firstMtime ? 'no' : 'YES'],
    ]);
  });
}
