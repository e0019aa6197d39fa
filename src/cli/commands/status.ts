// `status`: the running daemon's state, from its state file.
import type { Argv } from 'yargs';
import { readState } from '../../daemon/state-file.js';
import { formatStatus } from '../../observe/status-table.js';
import { CliError, EXIT, finish, load, stdio, type Common, type Io, withJson } from '../common.js';

export async function status(argv: Common & { json?: boolean }, io: Io = stdio): Promise<number> {
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
    io.out(JSON.stringify(s, null, 2) + '\n');
    return EXIT.ok;
  }
  io.out(formatStatus(s, { color: io.color }));
  return EXIT.ok;
}

/** `status` in the program */
export function statusCommand(y: Argv): Argv {
  return y.command('status', "the running daemon's state (from state_file)", withJson, (a: unknown) =>
    finish(status(a as never)),
  );
}
