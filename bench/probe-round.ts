// A probe round of 100 prefixes x 3 TCP targets against listeners on the namespace's loopback.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns } from '../test/support/netns.js';
import { startServices } from '../test/support/services.js';
import { parsePrefix, synthesize } from '../src/lib/prefix.js';
import { cliNodeFlags, median, report } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PREFIXES = 100;

export async function benchProbeRound(): Promise<void> {
  const ns = await createNetns('bench-probe');
  try {
    const services = await startServices(ns, { tcpPorts: [80] });
    try {
      const addrs = [];
      for (let i = 0; i < PREFIXES; i++) {
        const p = parsePrefix(`2001:db8:${(0x1000 + i).toString(16)}::/96`);
        for (const v4 of ['192.0.2.10', '192.0.2.11', '198.51.100.10'])
          addrs.push(`address add ${synthesize(p, v4)}/128 dev lo nodad`);
      }
      await ns.run(['ip', '-6', '-batch', '-'], { input: addrs.join('\n') + '\n', check: true });
      // The worker runs with the CLI's own V8 flags: CPU time is measured as the daemon would spend it.
      const worker = [
        process.execPath,
        ...cliNodeFlags(),
        '--import',
        'tsx',
        path.join(ROOT, 'bench/probe-round-worker.ts'),
      ];
      const r = await ns.run([...worker, String(PREFIXES), '10'], { check: true, timeoutMs: 120_000 });
      const rounds = (
        JSON.parse(r.stdout) as Array<{ wall_ms: number; cpu_ms: number; ok: number; total: number }>
      ).slice(1); // first round warms up
      const flags = cliNodeFlags().join(' ');
      report(`probe round: ${PREFIXES} prefixes x 3 TCP targets on loopback (${rounds.length} rounds; node ${flags})`, [
        ['wall time, median', `${median(rounds.map((x) => x.wall_ms)).toFixed(1)} ms`, '<= 1 s'],
        ['CPU time, median', `${median(rounds.map((x) => x.cpu_ms)).toFixed(1)} ms`, '<= 0.3 s'],
        ['probes answered', `${rounds[0]!.ok}/${rounds[0]!.total}`],
      ]);
    } finally {
      await services.stop();
    }
  } finally {
    await ns.destroy();
  }
}
