// named-checkconf can only check a whole configuration, and the live file must never hold text that
// fails it. So we check a shadow: copies of the include chain from named.conf down to the output
// file, rewritten to include the candidate instead. Files off that chain are read in place.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findIncludes } from './named-conf.js';
import { runCommand, type CommandResult } from './commands.js';
import { namedConfOf } from '../config/load.js';

export class NotIncludedError extends Error {}

/** Where the include chain lives: the local file system, or a remote host over SFTP. */
export interface ConfFiles {
  /** a file's text, or null if it cannot be read */
  read(file: string): Promise<string | null>;
  /** stores a rewritten copy of `original` under a fresh name; returns the path the checker is to read */
  writeShadow(name: string, text: string, original: string): Promise<string>;
}

export function notIncludedMessage(root: string, live: string): string {
  return `${root} does not include ${live} (directly or through its includes): BIND would never read it; add \`include "${live}";\` inside options { } (e.g. in named.conf.options)`;
}

/** The checkconf command for a shadow of the chain: shadowRoot instead of the live named.conf. */
export function checkconfFor(checkconf: string[], shadowRoot: string): string[] {
  return replaceConfArg(checkconf, namedConfOf(checkconf), shadowRoot);
}

function localFiles(dir: string): ConfFiles {
  return {
    read: (file) => fs.readFile(file, 'utf8').catch(() => null),
    async writeShadow(name, text) {
      const copy = path.join(dir, name);
      await fs.writeFile(copy, text);
      return copy;
    },
  };
}

export async function checkCandidate(
  checkconf: string[],
  live: string,
  candidate: string,
  timeoutMs: number,
): Promise<CommandResult> {
  const root = path.resolve(namedConfOf(checkconf));
  const shadowDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nat64-health-check-'));
  try {
    const shadowRoot =
      path.resolve(live) === root
        ? candidate
        : await shadowChain(localFiles(shadowDir), root, path.resolve(live), candidate);
    if (shadowRoot === null) throw new NotIncludedError(notIncludedMessage(root, live));
    // Relative includes resolve against named-checkconf's working directory: keep it where the root is.
    return await runCommand(checkconfFor(checkconf, shadowRoot), timeoutMs, path.dirname(root));
  } finally {
    await fs.rm(shadowDir, { recursive: true, force: true });
  }
}

/** Does the live config (root and its includes) read `file`? For `validate`. */
export async function includesFile(checkconf: string[], file: string): Promise<boolean> {
  const root = path.resolve(namedConfOf(checkconf));
  if (root === path.resolve(file)) return true;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nat64-health-check-'));
  try {
    return (await shadowChain(localFiles(dir), root, path.resolve(file), file)) !== null;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Copies of the files on the include chain from `root` down to `live`, each rewritten to include
 * the next copy, the last one `candidate` instead of `live`. Returns the root's copy, or null if
 * `live` is not on any chain. Absolute POSIX paths; relative includes resolve against root's dir.
 */
export async function shadowChain(
  files: ConfFiles,
  root: string,
  live: string,
  candidate: string,
): Promise<string | null> {
  const baseDir = path.posix.dirname(root);
  const memo = new Map<string, string | null>();
  let n = 0;
  const visit = async (file: string): Promise<string | null> => {
    if (memo.has(file)) return memo.get(file)!;
    memo.set(file, null); // include cycles: BIND rejects them; here they just end the walk
    const text = await files.read(file);
    if (text === null) return null;
    let out = '';
    let last = 0;
    let changed = false;
    for (const inc of findIncludes(text)) {
      const target = path.posix.resolve(baseDir, inc.path);
      const replacement = target === live ? candidate : await visit(target);
      if (replacement === null) continue;
      out += text.slice(last, inc.start) + JSON.stringify(replacement);
      last = inc.end;
      changed = true;
    }
    if (!changed) return null;
    const copy = await files.writeShadow(`${n++}-${path.posix.basename(file)}`, out + text.slice(last), file);
    memo.set(file, copy);
    return copy;
  };
  return visit(root);
}

function replaceConfArg(argv: string[], root: string, replacement: string): string[] {
  const conf = namedConfOf(argv);
  const i = argv.lastIndexOf(conf);
  if (i > 0) return argv.map((a, j) => (j === i ? replacement : a));
  return [...argv, replacement];
}
