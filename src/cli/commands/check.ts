// `check`: one probe round, per prefix health, latency and target results; with client pools, the
// set each pool would select from that round alone.
import type { Argv } from 'yargs';
import { DEFAULT_POOL } from '../../config/schema.js';
import { firstDecision, type Decision } from '../../core/step.js';
import type { Prober } from '../../daemon/daemon.js';
import { lossRatio } from '../../health/state.js';
import { formatMs, formatPercent, formatTable } from '../../lib/format.js';
import { runRound } from '../../probe/round.js';
import type { Config } from '../../config/load.js';
import { EXIT, finish, loadDiscovered, stdio, type Common, type Io, withJson } from '../common.js';

/** One probe round decided from scratch (no history): what `check` reports and `render` prints. */
export async function oneRound(config: Config, prober: Prober = runRound) {
  const round = await prober(config.prefixes, config.probes, { timeoutMs: config.health.timeout });
  return { round, d: firstDecision(config, round.outcomes, Date.now()) };
}

/** Each pool's set of a decision: the default pool's first, then the configured ones in config order. */
function poolSets(config: Config, d: Decision) {
  return [
    { name: DEFAULT_POOL, active: d.selection.active, failsafe: d.selection.failsafe },
    ...config.pools.map((p) => {
      const s = d.pools.get(p.name)!;
      return { name: p.name, active: s.active, failsafe: s.failsafe };
    }),
  ];
}

/** `prober`: the probe round (tests hand in canned outcomes) */
export async function check(argv: Common & { json?: boolean }, io: Io = stdio, prober?: Prober): Promise<number> {
  const { config } = await loadDiscovered(argv);
  const { round, d } = await oneRound(config, prober);
  // without pools nothing about sets is printed, as before pools existed
  const pools = config.pools.length > 0 ? poolSets(config, d) : null;
  const rows = config.prefixes.map((p) => {
    const v = d.verdict.prefixes.get(p.id)!;
    const targets = round.outcomes.filter((o) => o.prefix === p.id);
    return {
      prefix: p.id,
      name: p.name,
      group: p.group,
      discovered_from: p.discovered ?? null,
      healthy: v.good,
      latency_ms: v.latency_ms,
      // one round: the unanswered share of this round's counted probes
      loss_ratio: lossRatio(d.health.get(p.id)!),
      answered: v.answered,
      counted: v.counted,
      required: v.required,
      targets,
    };
  });
  const healthy = rows.filter((r) => r.healthy).length;
  if (argv.json) {
    io.out(
      JSON.stringify(
        {
          round_ms: round.duration_ms,
          target_faults: d.verdict.targetFaults,
          prefixes: rows,
          ...(pools ? { pools } : {}),
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const table = rows.map((r) => {
      // a failed target that is not among the prefix's counted failures was blamed on the target
      const counted = new Set(d.verdict.prefixes.get(r.prefix)!.failures.map((f) => f.probe));
      return [
        r.prefix,
        r.name === r.prefix ? '' : r.name,
        r.healthy ? 'healthy' : 'UNHEALTHY',
        formatMs(r.latency_ms),
        formatPercent(r.loss_ratio),
        r.targets
          .map((t) => {
            const result = t.ok ? formatMs(t.latency_ms) : (t.error ?? 'failed');
            const fault = !t.ok && !counted.has(t.probe) ? ' (target down everywhere: not counted)' : '';
            return `${t.probe}: ${result}${fault}`;
          })
          .join('; '),
      ];
    });
    io.out(formatTable(['PREFIX', 'NAME', 'STATE', 'LATENCY', 'LOSS', 'TARGETS'], table) + '\n');
    io.out(`${healthy} of ${rows.length} prefixes healthy (round took ${formatMs(round.duration_ms)})\n`);
    if (pools) {
      const sets = pools.map((p) => [p.name, `${p.active.join(', ') || 'none'}${p.failsafe ? ' (fail-safe)' : ''}`]);
      io.out(`\neach pool's set, decided from this round alone:\n${formatTable(['POOL', 'SET'], sets)}\n`);
    }
  }
  return healthy === rows.length ? EXIT.ok : healthy > 0 ? EXIT.some : EXIT.none;
}

/** `check` in the program */
export function checkCommand(y: Argv): Argv {
  return y.command(
    'check',
    'one probe round: per prefix health, latency and target results (exit 0 all healthy, 1 some, 2 none)',
    withJson,
    (a: unknown) => finish(check(a as never)),
  );
}
