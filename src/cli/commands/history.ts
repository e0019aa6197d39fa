// `history`: the last applies per target from the history files (no daemon needed).
import { readdirSync } from 'node:fs';
import type { Argv } from 'yargs';
import { targetsOf } from '../../apply/fleet.js';
import { historyDir, HistoryFileError, newestFirst, type HistoryEntry } from '../../apply/history.js';
import { readHistory } from '../../apply/history-store.js';
import { errorMessage } from '../../lib/format.js';
import { formatHistoryDiffs, formatHistoryTable } from '../../observe/apply-history-text.js';
import { CliError, EXIT, finish, load, stdio, type Builder, type Common, type Io, withJson } from '../common.js';

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
export async function history(
  argv: Common & { target?: string; diff?: boolean; json?: boolean; n: number },
  io: Io = stdio,
): Promise<number> {
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
    io.out(JSON.stringify({ dir, entries: shown }, null, 2) + '\n');
    return EXIT.ok;
  }
  if (entries.length === 0) {
    io.out(`no apply recorded yet (${dir})\n`);
    return EXIT.ok;
  }
  const color = io.color;
  const now = Date.now();
  io.out(argv.diff ? formatHistoryDiffs(shown, now, color) : formatHistoryTable(shown, now, color));
  if (shown.length < entries.length) io.out(`(${shown.length} of ${entries.length} shown; -n 0 shows all)\n`);
  return EXIT.ok;
}

/** `history` in the program */
export function historyCommand(y: Argv): Argv {
  return y.command(
    'history',
    'the last applies per target: outcome, set change and reason; --diff shows what was written',
    ((y: Argv) =>
      withJson(y)
        .option('target', { alias: 't', type: 'string', describe: 'only this target' })
        .option('diff', { type: 'boolean', describe: 'each apply with its sets, reasons and diff' })
        .option('n', { type: 'number', default: 20, describe: 'the newest N applies (0: all)' })) as Builder,
    (a: unknown) => finish(history(a as never)),
  );
}
