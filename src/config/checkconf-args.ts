// The `checkconf` command line, read exactly as BIND 9's named-checkconf reads its own:
//   named-checkconf [-chijlvz] [-p [-x]] [-t directory] [named.conf]
// Only -t takes a value; given two files, 9.18 prints its usage and exits 0, which would make every
// validation pass. So anything this cannot read is refused rather than guessed at.
import path from 'node:path';

export const DEFAULT_NAMED_CONF = '/etc/bind/named.conf';
const PROGRAM = 'named-checkconf';
/** flags that change what is checked, not whether it is */
const FLAGS = new Set(['c', 'i', 'j', 'l', 'z', 'p', 'x']);
/** flags that print something and exit 0 without checking anything */
const NO_CHECK: Record<string, string> = { h: 'prints its usage', v: 'prints its version' };

export class CheckconfArgsError extends Error {}

export interface CheckconfArgs {
  /** the words before named-checkconf's own options (a wrapper such as `ip netns exec NS`, and the program) */
  command: string[];
  flags: string[];
  /** -t: named-checkconf chroots there first; every path it reads is inside it */
  chroot: string | null;
  /** the named.conf argument as given (inside the chroot), or null for named-checkconf's default */
  given: string | null;
  /** the named.conf it reads (inside the chroot) */
  namedConf: string;
}

/**
 * The program is the last word named `named-checkconf` (wrappers such as `sudo` or `ip netns exec`
 * may come before it), else the first word (a script that takes named-checkconf's arguments).
 */
export function parseCheckconf(argv: readonly string[]): CheckconfArgs {
  if (argv.length === 0) throw new CheckconfArgsError('checkconf is empty');
  let at = argv.length - 1;
  while (at > 0 && path.posix.basename(argv[at]!) !== PROGRAM) at--;
  const command = argv.slice(0, at + 1);
  const flags: string[] = [];
  let chroot: string | null = null;
  const files: string[] = [];
  const args = argv.slice(at + 1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-') && a.length > 1 && files.length === 0) {
      for (let j = 1; j < a.length; j++) {
        const f = a[j]!;
        if (f === 't') {
          const value = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (value === undefined) throw new CheckconfArgsError('-t needs a directory');
          chroot = value;
          break;
        }
        if (f in NO_CHECK) throw new CheckconfArgsError(`-${f} ${NO_CHECK[f]} instead of checking anything`);
        if (!FLAGS.has(f)) throw new CheckconfArgsError(`named-checkconf has no option -${f}`);
        flags.push(`-${f}`);
      }
    } else {
      files.push(a);
    }
  }
  if (files.length > 1)
    throw new CheckconfArgsError(
      `more than one named.conf (${files.join(', ')}): named-checkconf then prints its usage and checks nothing`,
    );
  if (flags.includes('-x') && !flags.includes('-p')) throw new CheckconfArgsError('-x only goes with -p');
  const given = files[0] ?? null;
  return { command, flags, chroot, given, namedConf: given ?? DEFAULT_NAMED_CONF };
}

/** The same command checking `namedConf` instead (the shadow of the include chain). */
export function checkconfArgv(args: CheckconfArgs, namedConf: string): string[] {
  return [...args.command, ...args.flags, ...(args.chroot === null ? [] : ['-t', args.chroot]), namedConf];
}

/** A path as named-checkconf sees it (inside the chroot) as a path on the host. */
export function onHost(args: Pick<CheckconfArgs, 'chroot'>, file: string): string {
  return args.chroot === null ? file : path.posix.join(args.chroot, file);
}

/** A path on the host as named-checkconf sees it, or null if it is outside the chroot. */
export function inChroot(args: Pick<CheckconfArgs, 'chroot'>, file: string): string | null {
  if (args.chroot === null) return file;
  const rel = path.posix.relative(args.chroot, file);
  return rel.startsWith('..') || path.posix.isAbsolute(rel) ? null : `/${rel}`;
}
