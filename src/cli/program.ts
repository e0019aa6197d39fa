// The nat64-health command line as a yargs program: global options, one command per file of
// commands/, help, completion and exit statuses. Building it runs nothing.
import type { Argv } from 'yargs';
import cliYargs from './yargs.cjs';
import { ConfigError } from '../config/errors.js';
import { errorMessage } from '../lib/format.js';
import { DEFAULT_CONFIG_PATH, packageVersion } from '../lib/paths.js';
import { CliError, EXIT, stderr } from './common.js';
import { checkCommand } from './commands/check.js';
import { historyCommand } from './commands/history.js';
import { maintenanceCommand } from './commands/maintenance.js';
import { renderCommand } from './commands/render.js';
import { runCommand } from './commands/run.js';
import { statusCommand } from './commands/status.js';
import { synthCommand } from './commands/synth.js';
import { targetsCommand } from './commands/targets.js';
import { validateCommand } from './commands/validate.js';

/** The commands, in the order --help lists them. */
export const COMMANDS = [
  runCommand,
  checkCommand,
  renderCommand,
  validateCommand,
  statusCommand,
  targetsCommand,
  maintenanceCommand,
  historyCommand,
  synthCommand,
];

export function buildCli(args: string[]): Argv {
  const cli = cliYargs.yargs(args);
  const global = cli
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
    });
  return COMMANDS.reduce<Argv>((y, command) => command(y), global)
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

/** Parses `args` and runs the command; what goes wrong is a message and an exit status. */
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
