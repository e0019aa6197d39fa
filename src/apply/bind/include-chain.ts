// named-checkconf can only check a whole configuration, and the live file must never hold text that
// fails it. So we check a shadow: copies of the files on the include chain from named.conf down to
// the output, rewritten to include the candidate instead. Files off the chain are read in place.
// The chain is followed as BIND follows it, so the file validated is the file BIND reads: relative
// includes resolve against the working directory until an options-level `directory` is parsed and
// against that directory afterwards, includes nest, globs expand, and -t (chroot) is honoured.
import path from 'node:path';
import { onHost, inChroot, type CheckconfArgs } from '../../config/checkconf-args.js';
import { contextAt, scanStatements } from './named-conf.js';

/** Where the include chain lives (the local file system, or a remote host over SFTP); host paths. */
export interface ChainFiles {
  /** a file's text (latin1: one char per byte), or null if it cannot be read */
  read(file: string): Promise<string | null>;
  /** the names in a directory, or null (for globs) */
  list(dir: string): Promise<string[] | null>;
  /** stores a rewritten copy of `original` under a fresh name; returns the copy's host path */
  writeShadow(name: string, text: string, original: string): Promise<string>;
}

export interface Shadow {
  /** what named-checkconf is to read instead of named.conf (as it sees paths: inside the chroot) */
  root: string;
  /** path in named-checkconf's messages -> the operator's file it stands for */
  originals: Map<string, string>;
}

export function notIncludedMessage(root: string, live: string): string {
  const problem = `${root} does not include ${live} (directly or through its includes): BIND would never read it`;
  const fix = `add \`include "${live}";\` inside options { } (e.g. in named.conf.options)`;
  return `${problem}; ${fix}`;
}

/** The directory relative paths start from before any `directory` option: where checkconf runs. */
export function checkconfCwd(args: CheckconfArgs): string {
  return args.chroot === null ? path.posix.dirname(args.namedConf) : '/';
}

/**
 * Copies of the files on the chain from named.conf down to `live`, each rewritten to include the
 * next copy, the last one `candidate` instead of `live` (both host paths). Null if BIND never
 * reads `live`.
 */
export async function shadowChain(
  files: ChainFiles,
  args: CheckconfArgs,
  live: string,
  candidate: string,
): Promise<Shadow | null> {
  const see = (hostPath: string): string => {
    const p = inChroot(args, hostPath);
    if (p === null) throw new Error(`${hostPath} is outside the chroot ${args.chroot} of named-checkconf -t`);
    return p;
  };
  const root = path.posix.resolve('/', args.namedConf);
  const originals = new Map<string, string>([[see(candidate), see(live)]]);
  if (onHost(args, root) === live) return { root: see(candidate), originals };
  let base = checkconfCwd(args);
  let n = 0;
  const visiting = new Set<string>();

  const expand = async (pattern: string): Promise<string[]> => {
    const parts = pattern.split('/').filter(Boolean);
    let found = ['/'];
    for (const part of parts) {
      if (!/[*?[]/.test(part)) {
        found = found.map((d) => path.posix.join(d, part));
        continue;
      }
      const re = globSegment(part);
      const next: string[] = [];
      for (const d of found) {
        const names = (await files.list(onHost(args, d))) ?? [];
        for (const name of names.filter((x) => re.test(x) && !(x.startsWith('.') && !part.startsWith('.'))).sort())
          next.push(path.posix.join(d, name));
      }
      found = next;
    }
    return found;
  };

  const visit = async (file: string, context: string[]): Promise<string | null> => {
    if (visiting.has(file)) return null; // include cycles: BIND rejects them; here they end the walk
    visiting.add(file);
    try {
      const text = await files.read(onHost(args, file));
      if (text === null) return null;
      let out = '';
      let last = 0;
      let changed = false;
      for (const st of scanStatements(text, context)) {
        if (st.kind === 'directory') {
          base = path.posix.resolve(base, st.path);
          continue;
        }
        const pattern = path.posix.resolve(base, st.path);
        const matches = /[*?[]/.test(pattern) ? await expand(pattern) : [pattern];
        const inner = contextAt(text, st.start, context);
        let onChain = false;
        const replaced: string[] = [];
        for (const m of matches) {
          const r = onHost(args, m) === live ? see(candidate) : await visit(m, inner);
          onChain ||= r !== null;
          replaced.push(r ?? m);
        }
        if (!onChain) continue;
        out += text.slice(last, st.start) + replaced.map((p) => JSON.stringify(p)).join('; include ');
        last = st.end;
        changed = true;
      }
      if (!changed) return null;
      const copy = see(await files.writeShadow(`${n++}-${path.posix.basename(file)}`, out + text.slice(last), file));
      originals.set(copy, file);
      return copy;
    } finally {
      visiting.delete(file);
    }
  };
  const shadowRoot = await visit(root, []);
  return shadowRoot === null ? null : { root: shadowRoot, originals };
}

/** Does the configuration (named.conf and its includes) read `file` (a host path)? */
export async function includesFile(
  files: Pick<ChainFiles, 'read' | 'list'>,
  args: CheckconfArgs,
  file: string,
): Promise<boolean> {
  const dry: ChainFiles = { ...files, writeShadow: (_n, _t, original) => Promise.resolve(onHost(args, original)) };
  return (await shadowChain(dry, args, file, file)) !== null;
}

/** Names checkconf's messages use for our copies, replaced by the operator's files. */
export function nameOriginals(output: string, originals: Map<string, string>): string {
  // longest first: a temp file's name contains the live file's
  for (const [copy, original] of [...originals].sort((x, y) => y[0].length - x[0].length))
    output = output.split(copy).join(original);
  return output;
}

/** One glob(3) path segment (* ? [...]) as a regular expression. */
function globSegment(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = part.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        re += `[${part
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
