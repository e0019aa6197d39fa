// Remote commands go through the SSH user's login shell (an exec request is one string), so every
// argv element is quoted for a POSIX shell: single quotes, inside which nothing is special, and
// each ' as '\''. Nothing is ever interpolated unquoted: not probe results, not remote output.

export class ShellQuoteError extends Error {}

/** One argument, quoted for sh/bash/dash. Safe for any string without NUL. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new ShellQuoteError('an argument contains a NUL byte, which no command line can carry');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** argv as one shell command line: each element one word, never split, globbed or expanded. */
export function shellQuote(argv: readonly string[]): string {
  if (argv.length === 0) throw new ShellQuoteError('empty command');
  return argv.map(quoteArg).join(' ');
}

/**
 * The exec request for argv, optionally run in `cwd`. `exec` replaces the shell, so the exit status
 * and signals are the command's own.
 */
export function remoteCommand(argv: readonly string[], cwd?: string): string {
  const cmd = `exec ${shellQuote(argv)}`;
  return cwd === undefined ? cmd : `cd ${quoteArg(cwd)} && ${cmd}`;
}
