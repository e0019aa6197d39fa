// Just enough of named.conf's syntax to follow include and directory statements, find the options
// block and splice the managed block, without touching any other byte. Pure text functions. Files
// are handled as latin1 strings (one char per byte), so every byte survives, whatever its encoding.

export class NamedConfError extends Error {}

interface Token {
  kind: 'word' | 'string' | 'punct' | 'comment';
  text: string;
  start: number;
  end: number;
}

/** Tokens, comments (//, #, /* *\/) included as such; strings keep their quotes. */
function tokenizeAll(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      const start = i;
      while (i < text.length && text[i] !== '\n') i++;
      tokens.push({ kind: 'comment', text: text.slice(start, i), start, end: i });
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const start = i;
      i = end < 0 ? text.length : end + 2;
      tokens.push({ kind: 'comment', text: text.slice(start, i), start, end: i });
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      tokens.push({ kind: 'string', text: text.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
    } else if ('{};'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, start: i, end: i + 1 });
      i++;
    } else {
      let j = i;
      while (
        j < text.length &&
        !/[\s{};"]/.test(text[j]!) &&
        !(text[j] === '/' && (text[j + 1] === '/' || text[j + 1] === '*')) &&
        text[j] !== '#'
      )
        j++;
      tokens.push({ kind: 'word', text: text.slice(i, j), start: i, end: j });
      i = j;
    }
  }
  return tokens;
}

/** Tokens outside comments. */
function tokenize(text: string): Token[] {
  return tokenizeAll(text).filter((t) => t.kind !== 'comment');
}

export interface IncludeStatement {
  path: string;
  /** offsets of the quoted path, quotes included */
  start: number;
  end: number;
}

export type Statement = ({ kind: 'include' } & IncludeStatement) | { kind: 'directory'; path: string };

/**
 * include and options-level directory statements, in the order BIND meets them. `context`: the
 * blocks open where this file is included (an include inside options { } continues options).
 */
export function scanStatements(text: string, context: readonly string[] = []): Statement[] {
  const t = tokenize(text);
  const out: Statement[] = [];
  const open = [...context];
  let first: Token | null = null; // the statement's first word: what a `{` opens
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    if (tok.kind === 'punct') {
      if (tok.text === '{') open.push(first?.text ?? '');
      else if (tok.text === '}') open.pop();
      first = null;
      continue;
    }
    const next = t[i + 1];
    if (first === null && tok.kind === 'word' && next?.kind === 'string') {
      const path = next.text.slice(1, -1);
      if (tok.text === 'include') out.push({ kind: 'include', path, start: next.start, end: next.end });
      else if (tok.text === 'directory' && open.length === 1 && open[0] === 'options')
        out.push({ kind: 'directory', path });
    }
    first ??= tok;
  }
  return out;
}

/** The blocks open at `offset` (for an include there: the context of the included file). */
export function contextAt(text: string, offset: number, context: readonly string[] = []): string[] {
  const open = [...context];
  let first: Token | null = null;
  for (const tok of tokenize(text)) {
    if (tok.start >= offset) break;
    if (tok.kind === 'punct') {
      if (tok.text === '{') open.push(first?.text ?? '');
      else if (tok.text === '}') open.pop();
      first = null;
    } else first ??= tok;
  }
  return open;
}

/** Offsets of the `{` and `}` of the top-level `options { ... };` block, or null. */
export function findOptionsBlock(text: string): { open: number; close: number } | null {
  const t = tokenize(text);
  let depth = 0;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    if (tok.text === '{' && tok.kind === 'punct') depth++;
    else if (tok.text === '}' && tok.kind === 'punct') depth--;
    else if (depth === 0 && tok.kind === 'word' && tok.text === 'options' && t[i + 1]?.text === '{') {
      let d = 0;
      for (let j = i + 1; j < t.length; j++) {
        if (t[j]!.kind !== 'punct') continue;
        if (t[j]!.text === '{') d++;
        else if (t[j]!.text === '}' && --d === 0) return { open: t[i + 1]!.start, close: t[j]!.start };
      }
      return null;
    }
  }
  return null;
}

export const BLOCK_BEGIN = '// BEGIN nat64-health managed block: edits between these lines are overwritten';
export const BLOCK_END = '// END nat64-health managed block';

/**
 * Replaces (or, the first time, inserts at the end of the options block) the managed block.
 * Every byte outside the block stays as it was.
 */
export function spliceManagedBlock(text: string, rendered: string, file: string): string {
  const options = findOptionsBlock(text);
  if (!options) throw new NamedConfError(`${file}: no "options { ... };" block found to put the managed block in`);
  const body = indent(rendered);
  // Markers count only as line comments of their own: not inside /* */, a string or another comment.
  const comments = tokenizeAll(text).filter((c) => c.kind === 'comment');
  const begins = comments.filter((c) => c.text.trimEnd() === BLOCK_BEGIN).map((c) => c.start);
  const ends = comments.filter((c) => c.text.trimEnd() === BLOCK_END).map((c) => c.start);
  if (begins.length === 0 && ends.length === 0) {
    const lineStart = text.lastIndexOf('\n', options.close - 1) + 1;
    const closingAlone = text.slice(lineStart, options.close).trim() === '';
    const insertAt = closingAlone ? lineStart : options.close;
    const block = `${closingAlone ? '' : '\n'}\t${BLOCK_BEGIN}\n${body}\t${BLOCK_END}\n`;
    return text.slice(0, insertAt) + block + text.slice(insertAt);
  }
  if (begins.length !== 1 || ends.length !== 1 || ends[0]! < begins[0]!) {
    const found = `found ${begins.length} BEGIN and ${ends.length} END lines`;
    throw new NamedConfError(
      `${file}: the nat64-health managed block markers are damaged (${found}); fix or remove them by hand`,
    );
  }
  const [begin, end] = [begins[0]!, ends[0]!];
  if (begin < options.open || end > options.close) {
    throw new NamedConfError(`${file}: the nat64-health managed block is not inside the options block`);
  }
  const from = text.indexOf('\n', begin) + 1;
  const to = text.lastIndexOf('\n', end) + 1;
  return text.slice(0, from) + body + text.slice(to);
}

function indent(rendered: string): string {
  const lines = rendered.replace(/\n+$/, '').split('\n');
  if (lines.length === 1 && lines[0] === '') return '';
  return lines.map((l) => (l ? `\t${l}` : l)).join('\n') + '\n';
}

/** The managed block's text (between the markers), or null when the file has none. */
export function managedBlockOf(text: string): string | null {
  const comments = tokenizeAll(text).filter((c) => c.kind === 'comment');
  const begin = comments.find((c) => c.text.trimEnd() === BLOCK_BEGIN);
  const end = comments.find((c) => c.text.trimEnd() === BLOCK_END);
  return begin && end && end.start > begin.end ? text.slice(begin.end, end.start) : null;
}

/** The prefixes of the dns64 statements in text that admit clients (`clients { none; }` drops out). */
export function servingDns64Prefixes(text: string): string[] {
  const t = tokenize(text);
  const out: string[] = [];
  for (let i = 0; i + 2 < t.length; i++) {
    if (t[i]!.text !== 'dns64' || t[i]!.kind !== 'word' || t[i + 2]!.text !== '{') continue;
    let depth = 0;
    let j = i + 2;
    const body: string[] = [];
    for (; j < t.length; j++) {
      if (t[j]!.text === '{') depth++;
      else if (t[j]!.text === '}' && --depth === 0) break;
      body.push(t[j]!.text);
    }
    const clients = body
      .join(' ')
      .match(/clients \{ ([^}]*)\}/)?.[1]
      ?.trim();
    if (clients !== 'none ;') out.push(t[i + 1]!.text);
    i = j;
  }
  return out;
}
