// The original daemon's prefix list: one prefix a line, '#' starts a comment, a bare address is a /96.
import { parsePrefix, PrefixError, type Nat64Prefix } from '../lib/prefix.js';
import type { Problem } from './errors.js';

export interface FilePrefix {
  prefix: Nat64Prefix;
  line: number;
}

export function parsePrefixesFile(text: string, file: string): { prefixes: FilePrefix[]; problems: Problem[] } {
  const prefixes: FilePrefix[] = [];
  const problems: Problem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const words = line.split(/\s+/);
    if (words.length > 1) {
      problems.push({ file, line: i + 1, column: 1, message: `one prefix a line expected, found "${line}"` });
      return;
    }
    try {
      prefixes.push({ prefix: parsePrefix(words[0]!), line: i + 1 });
    } catch (err) {
      if (!(err instanceof PrefixError)) throw err;
      problems.push({ file, line: i + 1, column: raw.indexOf(words[0]!) + 1, message: err.message });
    }
  });
  return { prefixes, problems };
}
