// shellQuote against real shells: every hostile argument must arrive as exactly one, unchanged word.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { quoteArg, remoteCommand, shellQuote, ShellQuoteError } from '../../../../src/apply/ssh/quote.js';

const HOSTILE = [
  '',
  ' ',
  'plain',
  "it's",
  "'",
  "''",
  "'\\''",
  '"double"',
  '$(touch /tmp/nh-pwned)',
  '`touch /tmp/nh-pwned`',
  '${IFS}',
  '$HOME',
  '; rm -rf / #',
  '&& echo x',
  '| cat',
  '> /tmp/nh-pwned',
  '*',
  '/etc/*',
  '?',
  '[a-z]',
  '~',
  '~root',
  '{a,b}',
  '-n',
  '--',
  'a\nb',
  'tab\there',
  '\\',
  '\\\\n',
  '!event',
  '#comment',
  'ünïcødé ✓',
  '\r\n',
  '%s%n',
  'x=y',
  '2001:db8::1',
];

const SHELLS = ['/bin/sh', '/bin/bash', '/bin/dash'].filter((s) => existsSync(s));

function roundTrip(shell: string, args: string[]): string[] {
  // printf prints each argument NUL-terminated: the words the shell really passed.
  const out = execFileSync(shell, ['-c', shellQuote(['printf', '%s\\0', ...args])], { cwd: '/tmp' });
  const words = out.toString('utf8').split('\0');
  words.pop();
  return words;
}

describe('shellQuote', () => {
  it.each(SHELLS)('%s: each hostile argument arrives as one unchanged word, nothing runs', (shell) => {
    expect(roundTrip(shell, HOSTILE)).toEqual(HOSTILE);
    expect(existsSync('/tmp/nh-pwned')).toBe(false);
  });

  it.each(SHELLS)('%s: argv[0] is quoted too', (shell) => {
    const out = execFileSync(shell, ['-c', shellQuote(['echo', 'a b'])]).toString();
    expect(out).toBe('a b\n');
  });

  it('single-quotes every element', () => {
    expect(shellQuote(['rndc', 'reconfig'])).toBe("'rndc' 'reconfig'");
    expect(quoteArg("it's")).toBe("'it'\\''s'");
    expect(quoteArg('')).toBe("''");
  });

  it('refuses NUL bytes and empty commands', () => {
    expect(() => quoteArg('a\0b')).toThrow(ShellQuoteError);
    expect(() => shellQuote([])).toThrow(ShellQuoteError);
  });

  it.each(SHELLS)('%s: remoteCommand runs in the quoted directory and keeps the exit status', (shell) => {
    const r = execFileSync(shell, ['-c', remoteCommand(['sh', '-c', 'pwd; exit 0'], '/tmp')]).toString();
    expect(r.trim()).toBe('/tmp');
    let status = 0;
    try {
      execFileSync(shell, ['-c', remoteCommand(['sh', '-c', 'exit 7'])]);
    } catch (err) {
      status = (err as { status: number }).status;
    }
    expect(status).toBe(7);
    // a hostile directory name is one word too (cd fails, nothing runs)
    expect(() =>
      execFileSync(shell, ['-c', remoteCommand(['true'], "/nonexistent'; touch /tmp/nh-pwned; '")], {
        stdio: 'ignore',
      }),
    ).toThrow();
    expect(existsSync('/tmp/nh-pwned')).toBe(false);
  });
});
