// The apply history's files: the daemon's writer and the reader behind `nat64-health history`, on
// real files in a temp directory. Nothing it meets on disk may throw into an apply.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApplyReport } from '../../../src/apply/runner.js';
import { historyFile, HistoryFileError, parseHistory } from '../../../src/apply/history.js';
import { ApplyHistoryStore, readHistory } from '../../../src/apply/history-store.js';
import { createLogger } from '../../../src/lib/log.js';
import { chattrMissing } from '../../support/chattr.js';
import { itWith } from '../../support/real-parts.js';
import { A, B } from '../../support/prefixes.js';

function report(target: string, at: string, set: string[]): ApplyReport {
  return {
    target,
    at,
    outcome: { target, result: 'applied', ms: 12 },
    reason: 'selection changed',
    old: null,
    new: set,
    draining: [],
    changes: [],
    text: { file: '/x/dns64.conf', before: '', after: set.map((p) => `dns64 ${p} { };\n`).join('') },
    verification: null,
  };
}

function setup() {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-history-file-')), 'history');
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: 'debug',
    format: 'json',
    write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  return { dir, lines, store: new ApplyHistoryStore(log) };
}

describe('apply history store', () => {
  it('writes one file per target and serves what it holds in memory', async () => {
    const { dir, store } = setup();
    await store.use(dir, ['local', 'dns64-2']);
    store.record(dir, 100, report('local', '2026-12-01T12:00:00.000Z', [A]));
    store.record(dir, 100, report('dns64-2', '2026-12-01T12:00:01.000Z', [A]));
    store.record(dir, 100, report('local', '2026-12-01T12:00:02.000Z', [B]));
    await store.idle();
    expect((await readHistory(dir, 'local')).map((e) => [e.id, e.new])).toEqual([
      [1, [A]],
      [2, [B]],
    ]);
    expect((await readHistory(dir, 'dns64-2')).map((e) => e.id)).toEqual([1]);
    expect(store.all().map((e) => `${e.target}#${e.id}`)).toEqual(['local#2', 'dns64-2#1', 'local#1']);
    expect(store.find('local', 2)?.new).toEqual([B]);
    expect(store.find('local', 3)).toBeUndefined();
    expect(store.entryFor('dns64-2', '2026-12-01T12:00:01.000Z')?.id).toBe(1);
    // a new store (a restart) continues the ids
    const again = setup().store;
    await again.use(dir, ['local']);
    again.record(dir, 100, report('local', '2026-12-01T13:00:00.000Z', [A]));
    await again.idle();
    expect((await readHistory(dir, 'local')).map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('keep: 0 writes nothing', async () => {
    const { dir, store } = setup();
    store.record(dir, 0, report('local', '2026-12-01T12:00:00.000Z', [A]));
    await store.idle();
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  it('a corrupt file is set aside as .bad, logged, and a fresh history begins', async () => {
    const { dir, store, lines } = setup();
    const file = historyFile(dir, 'local');
    await mkdir(dir, { recursive: true });
    await writeFile(file, '{"version":1,"target":"local","entries":[{"id":1,');
    await store.use(dir, ['local']);
    expect(await readFile(`${file}.bad`, 'utf8')).toBe('{"version":1,"target":"local","entries":[{"id":1,');
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'apply history file unreadable; kept aside, starting a fresh history',
        file,
        kept_as: `${file}.bad`,
        error: expect.stringContaining(`${file}: not a nat64-health apply history: not JSON`) as unknown,
      }),
    );
    store.record(dir, 100, report('local', '2026-12-01T12:00:00.000Z', [A]));
    await store.idle();
    expect(parseHistory(await readFile(file, 'utf8'), file, 'local').map((e) => e.id)).toEqual([1]);
  });

  itWith(chattrMissing())('a corrupt file that cannot be set aside is left as it is and not written', async () => {
    const { dir, store, lines } = setup();
    const file = historyFile(dir, 'local');
    await mkdir(dir, { recursive: true });
    await writeFile(file, 'garbage');
    execFileSync('chattr', ['+i', dir]);
    try {
      store.record(dir, 100, report('local', '2026-12-01T12:00:00.000Z', [A]));
      await store.idle();
    } finally {
      execFileSync('chattr', ['-i', dir]);
    }
    expect(await readFile(file, 'utf8')).toBe('garbage');
    expect(await readdir(dir)).toEqual(['local.json']);
    expect(lines.map((l) => l.msg)).toContain(
      'apply history file unreadable and cannot be set aside; not writing this history',
    );
    expect(store.find('local', 1)?.new).toEqual([A]); // the page still shows it
  });

  it('a write that fails is logged; record never throws', async () => {
    const { dir, store, lines } = setup();
    await store.use(dir, ['local']); // no file yet: an empty history
    await writeFile(dir, 'a file where the folder should be');
    store.record(dir, 100, report('local', '2026-12-01T12:00:00.000Z', [A]));
    await store.idle();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'cannot write the apply history',
        file: historyFile(dir, 'local'),
      }),
    );
  });
});

describe('readHistory', () => {
  it('no file: no entries; a bad one: HistoryFileError naming it', async () => {
    const { dir } = setup();
    expect(await readHistory(dir, 'local')).toEqual([]);
    await mkdir(dir, { recursive: true });
    await writeFile(historyFile(dir, 'local'), '[1]');
    await expect(readHistory(dir, 'local')).rejects.toThrow(HistoryFileError);
    await expect(readHistory(dir, 'local')).rejects.toThrow(`${historyFile(dir, 'local')}: not a nat64-health`);
  });
});
