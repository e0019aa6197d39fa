// The nat64-health command line. Bad input ends with a clear message and an exit status, never a stack trace.
import { existsSync, readdirSync } from 'node:fs';
import type { Argv } from 'yargs';
import cliYargs from './yargs.cjs';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type Config } from '../config/load.js';
import { parsePrefix, PrefixError, synthesize } from '../lib/prefix.js';
import { DEFAULT_CONFIG_PATH, packageVersion } from '../lib/paths.js';
import { createLogger, stderrWriter, type LogLevel } from '../lib/log.js';
import { runRound } from '../probe/round.js';
import { decide } from '../core/step.js';
import { guardMaintenanceOn } from '../core/maintenance-guard.js';
import { EMPTY_SELECTION } from '../select/select.js';
import { renderDns64, staticSelection } from '../render/render.js';
import { combineHooks, Daemon } from '../daemon/daemon.js';
import { systemdNotifier } from '../daemon/systemd.js';
import { formatStatus, useColor } from '../observe/status-table.js';
import { readState, type StateSnapshot } from '../daemon/state-file.js';
import {
  maintenanceFile,
  MaintenanceFileError,
  withMaintenanceLock,
  maintenanceInForce,
  parseUntil,
  readMaintenance,
  writeMaintenance,
} from '../daemon/maintenance.js';
import { errorMessage, formatMs, formatPercent, formatTable } from '../lib/format.js';
import { lossRatio } from '../health/state.js';
import { Discovery } from '../discover/discover.js';
import { formatTargetReports, localTarget, targetsOf, testTargets } from '../apply/fleet.js';
import { historyDir, HistoryFileError, newestFirst, type HistoryEntry } from '../apply/history.js';
import { readHistory } from '../apply/history-store.js';
import { formatHistoryDiffs, formatHistoryTable } from '../observe/apply-history-text.js';

/** Messages on stderr: under systemd each line carries its priority for the journal (see log.ts). */
const stderr = stderrWriter();

export const EXIT = { ok: 0, some: 1, none: 2, noState: 3, usage: 64, dataErr: 65, config: 78 } as const;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Common {
  config?: string;
  'log-format': 'text' | 'json';
  'log-level': LogLevel;
}

/** --config, else the default path if it exists, else the embedded default (null). */
function configPath(argv: Common): string | null {
  if (argv.config) return argv.config;
  return existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : null;
}

function load(argv: Common): { path: string | null; config: Config } {
  const path = configPath(argv);
  return { path, config: loadConfig(path) };
}

/** The config with its discovered prefixes (RFC 7050), asked once; what goes wrong is said on stderr. */
async function loadDiscovered(argv: Common): Promise<{ path: string | null; config: Config }> {
  const { path, config } = load(argv);
  if (config.discover.length === 0) return { path, config };
  const discovery = new Discovery(createLogger({ format: argv['log-format'], level: argv['log-level'] }));
  await discovery.refresh(config.discover);
  return { path, config: discovery.apply(config) };
}

/** One probe round decided from scratch (no history): what `check` reports and `render` prints. */
async function oneRound(config: Config) {
  const round = await runRound(config.prefixes, config.probes, { timeoutMs: config.health.timeout });
  return { round, d: decide(config, new Map(), EMPTY_SELECTION, round.outcomes, Date.now()) };
}

async function check(argv: Common & { json?: boolean }): Promise<number> {
  const { config } = await loadDiscovered(argv);
  const { round, d } = await oneRound(config);
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
    process.stdout.write(
      JSON.stringify({ round_ms: round.duration_ms, target_faults: d.verdict.targetFaults, prefixes: rows }, null, 2) +
        '\n',
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
    process.stdout.write(formatTable(['PREFIX', 'NAME', 'STATE', 'LATENCY', 'LOSS', 'TARGETS'], table) + '\n');
    process.stdout.write(`${healthy} of ${rows.length} prefixes healthy (round took ${formatMs(round.duration_ms)})\n`);
  }
  return healthy === rows.length ? EXIT.ok : healthy > 0 ? EXIT.some : EXIT.none;
}

async function render(argv: Common & { static?: boolean }): Promise<number> {
  const { config } = await loadDiscovered(argv);
  if (argv.static) {
    process.stdout.write(renderDns64(config, staticSelection(config)));
    return EXIT.ok;
  }
  process.stdout.write((await oneRound(config)).d.rendered);
  return EXIT.ok;
}

async function validate(argv: Common & { bind?: boolean }): Promise<number> {
  const { path, config } = await loadDiscovered(argv);
  for (const w of config.warnings) stderr('warn', `warning: ${w}`);
  const found = config.prefixes.filter((p) => p.discovered !== undefined).length;
  const discovered = config.discover.length
    ? ` (${found} discovered from ${config.discover.length} source${config.discover.length === 1 ? '' : 's'})`
    : '';
  const counts = `${config.prefixes.length} prefixes${discovered}, ${config.probes.length} probe targets`;
  const out: string[] = [
    `${path ?? '(embedded default)'}: configuration is valid (${counts})`,
    `template ${config.template.file}: OK`,
  ];
  if (argv.bind) {
    // Read-only checks against BIND's files: the static render must pass named-checkconf.
    const target = localTarget(config.bind);
    const rendered = renderDns64(config, staticSelection(config));
    if (config.bind.mode === 'include' && !(await target.includes(config.bind.output))) {
      const { named_conf, output } = config.bind;
      const fix = `add \`include "${output}";\` inside options { }`;
      throw new CliError(`${named_conf} does not include ${output}: ${fix}`, EXIT.config);
    }
    const r = await target.validate(rendered);
    if (!r.ok) throw new CliError(`named-checkconf rejects the rendered configuration: ${r.output}`, EXIT.config);
    const what = config.bind.mode === 'include' ? 'include file' : 'managed block';
    out.push(`${config.bind.named_conf}: named-checkconf accepts the rendered ${what}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return EXIT.ok;
}

async function status(argv: Common & { json?: boolean }): Promise<number> {
  const { config } = load(argv);
  let s;
  try {
    s = await readState(config.state_file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CliError(
      e.code === 'ENOENT'
        ? `no state file at ${config.state_file}: is the daemon running?`
        : `cannot read ${config.state_file}: ${e.message}`,
      EXIT.noState,
    );
  }
  if (argv.json) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return EXIT.ok;
  }
  process.stdout.write(formatStatus(s, { color: useColor(process.stdout) }));
  return EXIT.ok;
}

async function run(argv: Common & { 'dry-run'?: boolean; watch?: boolean }): Promise<number> {
  const { path, config } = load(argv);
  const log = createLogger({ format: argv['log-format'], level: argv['log-level'] });
  // Under systemd (Type=notify): READY=1 after the first round, STATUS= with the active prefixes.
  const notifier = systemdNotifier({ log });
  // http.listen: /metrics and the status page; bound before the first round so a taken port fails fast.
  // Loaded only when configured: prom-client and the page cost memory a plain sidecar does not need.
  const observer = config.http ? await (await import('../observe/observer.js')).startObserver(config.http, log) : null;
  const daemon = new Daemon({
    configPath: path,
    config,
    log,
    dryRun: argv['dry-run'],
    watch: argv.watch,
    hooks: combineHooks(notifier?.hooks, observer?.hooks),
  });
  observer?.useApplyHistory(daemon.applyHistory);
  // The one place that listens to signals: the daemon and the notifier are told, in this order.
  const onHup = () => {
    log.info('SIGHUP: re-reading the configuration');
    notifier?.reloading();
    daemon.reload();
  };
  const stop: { done?: Promise<void> } = {};
  const onStop = (signal: NodeJS.Signals) => {
    log.info(`${signal}: stopping after the current step`);
    notifier?.stopping();
    stop.done ??= daemon.stop();
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  try {
    await daemon.start();
    // the loop has ended; the stop still lets applies in flight and running hooks finish
    await stop.done;
  } finally {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    await observer?.close();
  }
  await notifier?.close();
  log.info('stopped');
  return EXIT.ok;
}

/** The daemon's last state file, or null when there is none (the daemon has not run). */
async function lastState(config: Config): Promise<StateSnapshot | null> {
  try {
    return await readState(config.state_file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read ${config.state_file}: ${(err as Error).message}`, EXIT.noState);
  }
}

async function readMaintenanceOrFail(file: string) {
  try {
    return await readMaintenance(file);
  } catch (err) {
    if (err instanceof MaintenanceFileError)
      throw new CliError(`${err.message}\n(nothing changed: fix or remove the file first)`, EXIT.dataErr);
    throw err;
  }
}

/**
 * `maintenance PREFIX on|off`: writes the maintenance file beside the state file; the running daemon
 * watches it. Putting the last healthy prefix of the set into maintenance needs --force.
 */
async function maintenance(
  argv: Common & { prefix: string; state: 'on' | 'off'; reason?: string; until?: string; force?: boolean },
): Promise<number> {
  const { config } = load(argv);
  const file = maintenanceFile(config.state_file);
  let id: string;
  try {
    id = parsePrefix(argv.prefix).text;
  } catch (err) {
    if (err instanceof PrefixError) throw new CliError(`${argv.prefix}: ${err.message}`, EXIT.dataErr);
    throw err;
  }
  const configured = config.prefixes.some((p) => p.id === id);
  const names = (ids: string[]) => ids.join(', ') || 'none';
  if (argv.state === 'on' && !configured) throw new CliError(notConfigured(id, config), EXIT.dataErr);
  let until: number | null = null;
  if (argv.state === 'on' && argv.until !== undefined) {
    try {
      until = parseUntil(argv.until, Date.now());
    } catch (err) {
      throw new CliError((err as Error).message, EXIT.usage);
    }
  }
  const reason = argv.reason ?? '';
  if (reason.length > 200 || /[\r\n]/.test(reason))
    throw new CliError('--reason: one line of at most 200 characters', EXIT.usage);
  // the read-modify-write under the file's lock: another command or the daemon's pruning waits
  const locked = await withMaintenanceLock(file, 5000, async () => {
    const now = Date.now();
    const set = await readMaintenanceOrFail(file);
    if (argv.state === 'off') {
      if (!set.has(id)) {
        if (!configured) throw new CliError(notConfigured(id, config), EXIT.dataErr);
        return `${id} is not in maintenance; nothing changed\n`;
      }
      set.delete(id);
      await writeMaintenance(file, set, now);
      return `${id}: maintenance off (${file}); it comes back by the selection rules\n`;
    }
    const state = await lastState(config);
    const entry = { reason, since: set.get(id)?.since ?? now, until };
    const { next, everyHeld, refused } = guardMaintenanceOn(config, state, set, id, entry, now);
    const after = new Map(set).set(id, entry);
    const note = next.failsafe ? ' (fail-safe)' : everyHeld ? ' (every prefix in maintenance)' : '';
    const becomes = `the set would become: ${names(next.active)}${note}`;
    const unknown = state ? '' : ` (no state file at ${config.state_file}: checked against the configuration only)`;
    if (refused && !argv.force)
      throw new CliError(
        `refused: ${id} is the last healthy prefix of the active set; ${becomes}${unknown}. ` +
          'Use --force to put it into maintenance anyway.',
        EXIT.some,
      );
    await writeMaintenance(file, after, now);
    const untilText = until === null ? 'until `maintenance off`' : `until ${new Date(until).toISOString()}`;
    return (
      `${id}: maintenance on, ${untilText}${reason ? ` (${reason})` : ''}; written to ${file}\n` +
      `active now: ${names(state?.active ?? [])}; ${becomes}${unknown}\n`
    );
  });
  if (!locked.ok)
    throw new CliError(
      `${locked.holder}: another maintenance change holds the lock; nothing changed, try again`,
      EXIT.some,
    );
  process.stdout.write(locked.value);
  return EXIT.ok;
}

/** Names the configured prefixes, so the operator sees what exists. */
function notConfigured(id: string, config: Config): string {
  const list = config.prefixes.map((p) => (p.name === p.id ? p.id : `${p.id} (${p.name})`)).join(', ');
  return `${id} is not a configured prefix (${config.source}); configured: ${list || 'none'}`;
}

async function maintenanceList(argv: Common & { json?: boolean }): Promise<number> {
  const { config } = load(argv);
  const file = maintenanceFile(config.state_file);
  const set = await readMaintenanceOrFail(file);
  const now = Date.now();
  const held = maintenanceInForce(set, now);
  const rows = [...set].map(([id, e]) => ({
    prefix: id,
    name: config.prefixes.find((p) => p.id === id)?.name ?? null,
    reason: e.reason,
    since: new Date(e.since).toISOString(),
    until: e.until === null ? null : new Date(e.until).toISOString(),
    state: !config.prefixes.some((p) => p.id === id) ? 'not configured' : held.has(id) ? 'in force' : 'ended',
  }));
  if (argv.json) {
    process.stdout.write(JSON.stringify({ file, prefixes: rows }, null, 2) + '\n');
    return EXIT.ok;
  }
  if (rows.length === 0) {
    process.stdout.write(`no prefix in maintenance (${file})\n`);
    return EXIT.ok;
  }
  const table = rows.map((r) => [r.prefix, r.name ?? '', r.state, r.since, r.until ?? '-', r.reason]);
  process.stdout.write(formatTable(['PREFIX', 'NAME', 'STATE', 'SINCE', 'UNTIL', 'REASON'], table) + '\n');
  return EXIT.ok;
}

/** The targets with a history file in `dir` (also targets no longer configured). */
function targetsWithHistory(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .map((f) => f.slice(0, -'.json'.length));
  } catch {
    return [];
  }
}

/** `history`: the last applies per target from the history files (no daemon needed); changes nothing. */
async function history(argv: Common & { target?: string; diff?: boolean; json?: boolean; n: number }): Promise<number> {
  const { config } = load(argv);
  const dir = historyDir(config.state_file);
  const configured = targetsOf(config).map((t) => t.name);
  if (!Number.isInteger(argv.n) || argv.n < 0) throw new CliError('-n: a whole number, 0 for all', EXIT.usage);
  let names = configured;
  if (argv.target !== undefined) {
    if (!configured.includes(argv.target) && !targetsWithHistory(dir).includes(argv.target))
      throw new CliError(
        `unknown target "${argv.target}": the configured targets are ${configured.join(', ')} (${config.source})`,
        EXIT.dataErr,
      );
    names = [argv.target];
  }
  const entries: HistoryEntry[] = [];
  for (const name of names) {
    try {
      entries.push(...(await readHistory(dir, name)));
    } catch (err) {
      if (!(err instanceof HistoryFileError))
        throw new CliError(`cannot read the history: ${errorMessage(err)}`, EXIT.dataErr);
      throw new CliError(
        `${err.message}\n(nothing changed; the daemon sets such a file aside as ${name}.json.bad` +
          ' and starts a fresh history)',
        EXIT.dataErr,
      );
    }
  }
  entries.sort(newestFirst);
  const shown = argv.n === 0 ? entries : entries.slice(0, argv.n);
  if (argv.json) {
    process.stdout.write(JSON.stringify({ dir, entries: shown }, null, 2) + '\n');
    return EXIT.ok;
  }
  if (entries.length === 0) {
    process.stdout.write(`no apply recorded yet (${dir})\n`);
    return EXIT.ok;
  }
  const color = useColor(process.stdout);
  const now = Date.now();
  process.stdout.write(argv.diff ? formatHistoryDiffs(shown, now, color) : formatHistoryTable(shown, now, color));
  if (shown.length < entries.length)
    process.stdout.write(`(${shown.length} of ${entries.length} shown; -n 0 shows all)\n`);
  return EXIT.ok;
}

/** `targets test`: connect to every target and check it, changing nothing (exit 0 all ready, 1 some, 2 none). */
async function targetsTest(argv: Common & { json?: boolean }): Promise<number> {
  const { config } = load(argv);
  const reports = await testTargets(config);
  process.stdout.write(argv.json ? JSON.stringify({ targets: reports }, null, 2) + '\n' : formatTargetReports(reports));
  const ready = reports.filter((r) => r.ok).length;
  return ready === reports.length ? EXIT.ok : ready > 0 ? EXIT.some : EXIT.none;
}

function synth(argv: { prefix: string; ipv4: string }): number {
  try {
    process.stdout.write(synthesize(parsePrefix(argv.prefix), argv.ipv4) + '\n');
    return EXIT.ok;
  } catch (err) {
    if (err instanceof PrefixError) throw new CliError(err.message, EXIT.dataErr);
    throw err;
  }
}

export function buildCli(args: string[]): Argv {
  // Builders are typed loosely (Argv in, Argv out); each handler reads its arguments as its own type.
  type Builder = (y: Argv) => Argv;
  const withJson: Builder = (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output' });
  const finish = async (p: Promise<number> | number): Promise<void> => {
    process.exitCode = await p;
  };
  const cli = cliYargs.yargs(args);
  return cli
    .scriptName('nat64-health')
    .usage("$0 <command> [options]\n\nKeeps BIND's dns64 prefixes on healthy NAT64 gateways.")
    .option('config', {
      alias: 'c',
      type: 'string',
      describe: `config file (default ${DEFAULT_CONFIG_PATH}, else the embedded default)`,
    })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'log line format' })
    .option('log-level', {
      choices: ['debug', 'info', 'warn', 'error'] as const,
      default: 'info' as const,
      describe: 'least severe level logged',
    })
    .command(
      'run',
      'run the daemon in the foreground (logs to stderr)',
      ((y: Argv) =>
        y
          .option('dry-run', { type: 'boolean', describe: 'probe and decide, but never write files or reload BIND' })
          .option('watch', {
            type: 'boolean',
            default: true,
            describe: 're-read the config when its files change (--no-watch: only on SIGHUP)',
          })) as Builder,
      (a: unknown) => finish(run(a as never)),
    )
    .command(
      'check',
      'one probe round: per prefix health, latency and target results (exit 0 all healthy, 1 some, 2 none)',
      withJson,
      (a: unknown) => finish(check(a as never)),
    )
    .command(
      'render',
      'print the dns64 text that would be written now',
      ((y: Argv) =>
        y.option('static', {
          type: 'boolean',
          describe: 'every configured prefix, no probing (a plain static configuration)',
        })) as Builder,
      (a: unknown) => finish(render(a as never)),
    )
    .command(
      'validate',
      'check the config and template (exit 78 on errors)',
      ((y: Argv) =>
        y.option('bind', {
          type: 'boolean',
          describe: "also check the rendered text against BIND's named.conf with named-checkconf",
        })) as Builder,
      (a: unknown) => finish(validate(a as never)),
    )
    .command('status', "the running daemon's state (from state_file)", withJson, (a: unknown) =>
      finish(status(a as never)),
    )
    .command('targets', 'the BIND servers managed (local and over SSH)', ((y: Argv) =>
      y
        .command(
          'test',
          'connect to every target: host key, output writable, checkconf and reload runnable; changes nothing',
          withJson,
          (a: unknown) => finish(targetsTest(a as never)),
        )
        .demandCommand(1, 'name a targets command (test)')) as Builder)
    .command('maintenance', 'take prefixes out of the active set and back (maintenance PREFIX on|off, list)', ((
      y: Argv,
    ) =>
      y
        .command('list', 'the prefixes in maintenance (from the maintenance file)', withJson, (a: unknown) =>
          finish(maintenanceList(a as never)),
        )
        .command(
          '$0 <prefix> <state>',
          'put PREFIX into maintenance (on) or take it out (off)',
          ((z: Argv) =>
            z
              .positional('prefix', { type: 'string', demandOption: true })
              .positional('state', { choices: ['on', 'off'] as const, demandOption: true })
              .option('reason', { type: 'string', describe: 'why (shown in status and logs)' })
              .option('until', { type: 'string', describe: 'end it at this time (ISO 8601) or after this long (2h)' })
              .option('force', {
                type: 'boolean',
                describe: 'also when it is the last healthy prefix of the active set',
              })) as Builder,
          (a: unknown) => finish(maintenance(a as never)),
        )) as Builder)
    .command(
      'history',
      'the last applies per target: outcome, set change and reason; --diff shows what was written',
      ((y: Argv) =>
        withJson(y)
          .option('target', { alias: 't', type: 'string', describe: 'only this target' })
          .option('diff', { type: 'boolean', describe: 'each apply with its sets, reasons and diff' })
          .option('n', { type: 'number', default: 20, describe: 'the newest N applies (0: all)' })) as Builder,
      (a: unknown) => finish(history(a as never)),
    )
    .command(
      'synth <prefix> <ipv4>',
      'print the RFC 6052 address of IPV4 under PREFIX',
      ((y: Argv) =>
        y
          .positional('prefix', { type: 'string', demandOption: true })
          .positional('ipv4', { type: 'string', demandOption: true })) as Builder,
      (a: unknown) => finish(synth(a as never)),
    )
    .completion('completion', 'print a shell completion script')
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .fail((msg, err, y) => {
      if (err) throw err;
      stderr('error', `${y.help() && ''}${msg}\n(see nat64-health --help)`);
      process.exit(EXIT.usage);
    });
}

export async function main(args = cliYargs.hideBin(process.argv)): Promise<void> {
  try {
    await buildCli(args).parseAsync();
  } catch (err) {
    if (err instanceof ConfigError) {
      stderr('error', `configuration error:\n${err.message}`);
      process.exitCode = EXIT.config;
    } else if (err instanceof CliError) {
      stderr('error', err.message);
      process.exitCode = err.exitCode;
    } else {
      stderr('error', `nat64-health: ${errorMessage(err)}`);
      process.exitCode = 1;
    }
  }
}

await main();
