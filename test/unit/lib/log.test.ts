// Log lines: one per event, and under systemd each with the sd-daemon priority prefix journald reads.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, stderrIsJournal, withPriority } from '../../../src/lib/log.js';

const LOG_MODULE = fileURLToPath(new URL('../../../src/lib/log.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

describe('createLogger', () => {
  it('writes one line per event, with fields, and nothing below the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => lines.push(l) });
    log.debug('not shown');
    log.info('applied to local', { active: ['a', 'b'], ms: 48, reason: 'selection changed' });
    log.warn('prefix is down\nsecond line', { error: 'line one\nline two' });
    expect(lines).toEqual([
      'INFO  applied to local active=a,b ms=48 reason="selection changed"',
      'WARN  prefix is down second line error="line one\\nline two"',
    ]);
  });

  it('writes JSON objects with --log-format json', () => {
    const lines: string[] = [];
    createLogger({ format: 'json', write: (l) => lines.push(l) }).error('apply failed', { stage: 'validate' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', msg: 'apply failed', stage: 'validate' });
  });
});

describe('withPriority', () => {
  it('puts the syslog priority of the level before every line', () => {
    expect(withPriority('error', 'configuration error:\n/etc/x.yaml:3: health.interval: bad')).toBe(
      '<3>configuration error:\n<3>/etc/x.yaml:3: health.interval: bad',
    );
    expect(['debug', 'info', 'warn'].map((l) => withPriority(l as 'debug', 'x'))).toEqual(['<7>x', '<6>x', '<4>x']);
  });
});

describe('stderrIsJournal', () => {
  const stat = () => ({ dev: 2049n, ino: 123456789012n });
  it('is true when JOURNAL_STREAM names the device and inode of stderr', () => {
    expect(stderrIsJournal({ JOURNAL_STREAM: '2049:123456789012' }, stat)).toBe(true);
  });
  it('is false without JOURNAL_STREAM, for another stream (stderr redirected), or a malformed value', () => {
    expect(stderrIsJournal({}, stat)).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: '2049:99' }, stat)).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: '8:123456789012' }, stat)).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: 'journal' }, stat)).toBe(false);
  });
});

describe('the default writer (stderr)', () => {
  // A real process whose fd 2 is a file: prefixed only when JOURNAL_STREAM names that very file.
  const run = (journalStream: (dev: bigint, ino: bigint) => string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'nh-log-'));
    try {
      const file = join(dir, 'stderr');
      const fd = openSync(file, 'w');
      const { dev, ino } = fstatSync(fd, { bigint: true });
      const stream = journalStream(dev, ino);
      const script = `import { createLogger } from ${JSON.stringify(LOG_MODULE)};
        const log = createLogger({ level: 'debug' });
        log.debug('d'); log.info('i'); log.warn('w'); log.error('e');`;
      const r = spawnSync(TSX, ['--eval', script], {
        stdio: ['ignore', 'ignore', fd],
        env: { ...process.env, JOURNAL_STREAM: stream },
      });
      closeSync(fd);
      expect(r.status).toBe(0);
      return readFileSync(file, 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('prefixes each line with its priority when stderr is the journal stream', () => {
    expect(run((dev, ino) => `${dev}:${ino}`)).toBe('<7>DEBUG d\n<6>INFO  i\n<4>WARN  w\n<3>ERROR e\n');
  });

  it('writes plain lines when JOURNAL_STREAM names another stream', () => {
    expect(run((dev, ino) => `${dev}:${ino + 1n}`)).toBe('DEBUG d\nINFO  i\nWARN  w\nERROR e\n');
  });
});
