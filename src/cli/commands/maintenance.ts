// `maintenance PREFIX on|off` and `maintenance list`: the maintenance file beside the state file.
import type { Argv } from 'yargs';
import type { Config } from '../../config/load.js';
import { DEFAULT_POOL } from '../../config/schema.js';
import { eachPool, guardMaintenanceOn, type SetPrediction } from '../../core/maintenance-guard.js';
import { effectivePrefixes } from '../../discover/restore.js';
import {
  maintenanceFile,
  MaintenanceFileError,
  maintenanceInForce,
  parseUntil,
  readMaintenance,
  withMaintenanceLock,
  writeMaintenance,
} from '../../daemon/maintenance.js';
import { readState, type StateSnapshot } from '../../daemon/state-file.js';
import { formatTable } from '../../lib/format.js';
import { parsePrefix, PrefixError } from '../../lib/prefix.js';
import { CliError, EXIT, finish, load, stdio, type Builder, type Common, type Io, withJson } from '../common.js';

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
 * watches it. Leaving a pool's set with no healthy prefix needs --force (core/maintenance-guard.ts).
 * The prefixes it knows are the daemon's (effectivePrefixes): the configured ones and those
 * discovered (RFC 7050) as the state file records them.
 */
export async function maintenance(
  argv: Common & { prefix: string; state: 'on' | 'off'; reason?: string; until?: string; force?: boolean },
  io: Io = stdio,
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
  // `off` needs no prediction: a state file that cannot be read (a power loss) only loses the
  // discovered prefixes' names, and never keeps a prefix in maintenance
  const state = await lastState(config).catch((err: unknown) => {
    if (argv.state === 'off') return null;
    throw err;
  });
  const known = effectivePrefixes(config, state, Date.now()).prefixes;
  const configured = known.some((p) => p.id === id);
  const names = (ids: string[]) => ids.join(', ') || 'none';
  if (argv.state === 'on' && !configured) throw new CliError(notConfigured(id, config, known), EXIT.dataErr);
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
        if (!configured) throw new CliError(notConfigured(id, config, known), EXIT.dataErr);
        return `${id} is not in maintenance; nothing changed\n`;
      }
      set.delete(id);
      await writeMaintenance(file, set, now);
      return `${id}: maintenance off (${file}); it comes back by the selection rules\n`;
    }
    const entry = { reason, since: set.get(id)?.since ?? now, until };
    const { after, next, everyHeld, refusedFor } = guardMaintenanceOn(config, state, set, id, entry, now);
    const becomes = (p: SetPrediction) =>
      `${names(p.active)}${p.failsafe ? ' (fail-safe)' : everyHeld ? ' (every prefix in maintenance)' : ''}`;
    const unknown = state ? '' : ` (no state file at ${config.state_file}: checked against the configuration only)`;
    const pooled = config.pools.length > 0;
    const predicted = new Map(eachPool(next));
    if (refusedFor.length > 0 && !argv.force)
      throw new CliError(
        (pooled
          ? `refused: without ${id} the active set of ` +
            `${refusedFor.length > 1 ? 'pools' : 'pool'} ${refusedFor.join(', ')} would have no healthy prefix; ` +
            refusedFor
              .map((pool) => `the set of pool ${pool} would become: ${becomes(predicted.get(pool)!)}`)
              .join('; ')
          : `refused: without ${id} the active set would have no healthy prefix; ` +
            `the set would become: ${becomes(next)}`) + `${unknown}. Use --force to put it into maintenance anyway.`,
        EXIT.some,
      );
    await writeMaintenance(file, after, now);
    const untilText = until === null ? 'until `maintenance off`' : `until ${new Date(until).toISOString()}`;
    const activeNow = (pool: string) =>
      pool === DEFAULT_POOL ? (state?.active ?? []) : (state?.pools?.find((p) => p.name === pool)?.active ?? []);
    const sets = pooled
      ? eachPool(next)
          .map(
            ([pool, p]) => `pool ${pool}: active now: ${names(activeNow(pool))}; the set would become: ${becomes(p)}`,
          )
          .join('\n') + `${unknown}\n`
      : `active now: ${names(activeNow(DEFAULT_POOL))}; the set would become: ${becomes(next)}${unknown}\n`;
    return `${id}: maintenance on, ${untilText}${reason ? ` (${reason})` : ''}; written to ${file}\n${sets}`;
  });
  if (!locked.ok)
    throw new CliError(
      `${locked.holder}: another maintenance change holds the lock; nothing changed, try again`,
      EXIT.some,
    );
  io.out(locked.value);
  return EXIT.ok;
}

/** Names the configured (and discovered) prefixes, so the operator sees what exists. */
function notConfigured(id: string, config: Config, known: Config['prefixes']): string {
  const named = (p: Config['prefixes'][number]) => (p.name === p.id ? p.id : `${p.id} (${p.name})`);
  const list = known.filter((p) => !p.discovered || config.prefixes.some((c) => c.id === p.id)).map(named);
  const found = known.filter((p) => p.discovered && !config.prefixes.some((c) => c.id === p.id)).map(named);
  return (
    `${id} is not a configured prefix (${config.source}); configured: ${list.join(', ') || 'none'}` +
    (found.length ? `; discovered: ${found.join(', ')}` : '')
  );
}

export async function maintenanceList(argv: Common & { json?: boolean }, io: Io = stdio): Promise<number> {
  const { config } = load(argv);
  const file = maintenanceFile(config.state_file);
  const set = await readMaintenanceOrFail(file);
  const now = Date.now();
  const held = maintenanceInForce(set, now);
  // the entries are named as the daemon knows them; a state file that cannot be read only loses
  // the discovered prefixes' names
  const state = await lastState(config).catch(() => null);
  const known = effectivePrefixes(config, state, now).prefixes;
  const rows = [...set].map(([id, e]) => ({
    prefix: id,
    name: known.find((p) => p.id === id)?.name ?? null,
    reason: e.reason,
    since: new Date(e.since).toISOString(),
    until: e.until === null ? null : new Date(e.until).toISOString(),
    state: !known.some((p) => p.id === id) ? 'not configured' : held.has(id) ? 'in force' : 'ended',
  }));
  if (argv.json) {
    io.out(JSON.stringify({ file, prefixes: rows }, null, 2) + '\n');
    return EXIT.ok;
  }
  if (rows.length === 0) {
    io.out(`no prefix in maintenance (${file})\n`);
    return EXIT.ok;
  }
  const table = rows.map((r) => [r.prefix, r.name ?? '', r.state, r.since, r.until ?? '-', r.reason]);
  io.out(formatTable(['PREFIX', 'NAME', 'STATE', 'SINCE', 'UNTIL', 'REASON'], table) + '\n');
  return EXIT.ok;
}

/** `maintenance` in the program */
export function maintenanceCommand(y: Argv): Argv {
  return y.command('maintenance', 'take prefixes out of the active set and back (maintenance PREFIX on|off, list)', ((
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
              describe: 'also when the active set would be left with no healthy prefix',
            })) as Builder,
        (a: unknown) => finish(maintenance(a as never)),
      )) as Builder);
}
