// Runs inside the benchmark's namespace: probe rounds of N prefixes x 3 TCP targets, wall and CPU time.
import { parseConfig } from '../src/config/load.js';
import { runRound } from '../src/probe/round.js';

const [prefixCount, rounds] = [Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 10)];
const prefixes = Array.from({ length: prefixCount }, (_, i) => `  - 2001:db8:${(0x1000 + i).toString(16)}::/96`);
const targets = ['192.0.2.10', '192.0.2.11', '198.51.100.10'].map((a) => `  - { type: tcp, address: ${a}, port: 80 }`);
const yaml = ['prefixes:', ...prefixes, 'probes:', ...targets, 'health: { timeout: 1s }', ''].join('\n');
const config = parseConfig(yaml, 'bench', '/tmp');
const results: Array<{ wall_ms: number; cpu_ms: number; ok: number; total: number }> = [];
for (let i = 0; i < rounds; i++) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const r = await runRound(config.prefixes, config.probes, { timeoutMs: config.health.timeout });
  const used = process.cpuUsage(cpu);
  results.push({
    wall_ms: performance.now() - start,
    cpu_ms: (used.user + used.system) / 1000,
    ok: r.outcomes.filter((o) => o.ok).length,
    total: r.outcomes.length,
  });
}
process.stdout.write(JSON.stringify(results) + '\n');
