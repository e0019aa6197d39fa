// `run`: the daemon in the foreground, as a service (src/service/run-service.ts).
import type { Argv } from 'yargs';
import { createLogger } from '../../lib/log.js';
import { SecondWriterError } from '../../daemon/writer-locks.js';
import { runService } from '../../service/run-service.js';
import { CliError, EXIT, finish, load, type Builder, type Common } from '../common.js';

export async function run(argv: Common & { 'dry-run'?: boolean; watch?: boolean }): Promise<number> {
  const { path, config } = load(argv);
  const log = createLogger({ format: argv['log-format'], level: argv['log-level'] });
  try {
    await runService({ configPath: path, config, log, dryRun: argv['dry-run'], watch: argv.watch });
  } catch (err) {
    if (err instanceof SecondWriterError) throw new CliError(err.message, EXIT.busy);
    throw err;
  }
  return EXIT.ok;
}

/** `run` in the program */
export function runCommand(y: Argv): Argv {
  return y.command(
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
  );
}
