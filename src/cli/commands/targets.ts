// `targets test`: connect to every target and check it, changing nothing.
import type { Argv } from 'yargs';
import { formatTargetReports, testTargets } from '../../apply/fleet.js';
import { EXIT, finish, load, stdio, type Builder, type Common, type Io, withJson } from '../common.js';

/** `targets test`: connect to every target and check it, changing nothing (exit 0 all ready, 1 some, 2 none). */
export async function targetsTest(argv: Common & { json?: boolean }, io: Io = stdio): Promise<number> {
  const { config } = load(argv);
  const reports = await testTargets(config);
  io.out(argv.json ? JSON.stringify({ targets: reports }, null, 2) + '\n' : formatTargetReports(reports));
  const ready = reports.filter((r) => r.ok).length;
  return ready === reports.length ? EXIT.ok : ready > 0 ? EXIT.some : EXIT.none;
}

/** `targets test` in the program */
export function targetsCommand(y: Argv): Argv {
  return y.command('targets', 'the BIND servers managed (local and over SSH)', ((y: Argv) =>
    y
      .command(
        'test',
        'connect to every target: host key, output writable, checkconf and reload runnable; changes nothing',
        withJson,
        (a: unknown) => finish(targetsTest(a as never)),
      )
      .demandCommand(1, 'name a targets command (test)')) as Builder);
}
