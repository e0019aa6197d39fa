// `synth`: the RFC 6052 address of an IPv4 address under a prefix.
import type { Argv } from 'yargs';
import { parsePrefix, PrefixError, synthesize } from '../../lib/prefix.js';
import { CliError, EXIT, finish, stdio, type Builder, type Io } from '../common.js';

export function synth(argv: { prefix: string; ipv4: string }, io: Io = stdio): number {
  try {
    io.out(synthesize(parsePrefix(argv.prefix), argv.ipv4) + '\n');
    return EXIT.ok;
  } catch (err) {
    if (err instanceof PrefixError) throw new CliError(err.message, EXIT.dataErr);
    throw err;
  }
}

/** `synth` in the program */
export function synthCommand(y: Argv): Argv {
  return y.command(
    'synth <prefix> <ipv4>',
    'print the RFC 6052 address of IPV4 under PREFIX',
    ((y: Argv) =>
      y
        .positional('prefix', { type: 'string', demandOption: true })
        .positional('ipv4', { type: 'string', demandOption: true })) as Builder,
    (a: unknown) => finish(synth(a as never)),
  );
}
