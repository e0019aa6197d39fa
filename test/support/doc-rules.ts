// Rules that the code states in a header comment and docs/rules.md repeats for operators: both texts,
// whitespace collapsed, so a test can keep them word for word the same.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The comment block of a source file from the line starting with `first` to its end. */
export function rulesInSource(file: string, first: string): string {
  const lines = readFileSync(repo(file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`// ${first}`));
  if (start < 0) throw new Error(`${file}: no comment line starting with "${first}"`);
  const block: string[] = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith('//')) break;
    block.push(l.replace(/^\/\/ ?/, ''));
  }
  return collapse(block.join('\n'));
}

/** The operators' statement of the rules. */
export const RULES_DOC = 'docs/rules.md';

/** The paragraph (or list) of RULES_DOC that starts with `first`, up to the next blank line. */
export function rulesInDocs(first: string): string {
  const text = readFileSync(repo(RULES_DOC), 'utf8');
  const start = text.indexOf(`\n${first}`);
  if (start < 0) throw new Error(`${RULES_DOC}: no paragraph starting with "${first}"`);
  const end = text.indexOf('\n\n', start + 1);
  return collapse(text.slice(start, end < 0 ? undefined : end));
}
