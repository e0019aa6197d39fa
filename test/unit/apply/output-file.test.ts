import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalHost } from '../../../src/apply/local/host.js';
import { OutputFile } from '../../../src/apply/output-file.js';
import { BLOCK_BEGIN } from '../../../src/apply/bind/named-conf.js';

const label = (f: string) => f;

describe('OutputFile', () => {
  it('include mode: the desired file is the rendered text; the history diffs the whole file', async () => {
    const output = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-out-')), 'dns64.conf');
    writeFileSync(output, 'old;\n');
    const f = new OutputFile(new LocalHost(), { mode: 'include', output }, label);
    const { current, desired } = await f.desired('new;\n');
    expect([current?.toString(), desired.toString()]).toEqual(['old;\n', 'new;\n']);
    expect(f.historyText(current, desired)).toEqual({ file: output, before: current, after: desired });
  });

  it('block mode: only the managed block changes, and only it is diffed; a missing file is an error', async () => {
    const output = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-out-')), 'named.conf.options');
    const f = new OutputFile(new LocalHost(), { mode: 'block', output }, label);
    await expect(f.desired('dns64 x {};\n')).rejects.toThrow(/does not exist \(block mode edits an existing/);
    writeFileSync(output, 'options {\n\tdirectory "/var/cache/bind"; // caf\xe9\n};\n', 'latin1');
    const { current, desired } = await f.desired('dns64 2001:db8:64:a::/96 { };\n');
    const text = desired.toString('latin1');
    expect(text).toContain(BLOCK_BEGIN);
    expect(text).toContain('// caf\xe9');
    const h = f.historyText(current, desired);
    expect(h.file).toBe(`${output} (managed block)`);
    expect(h.after.toString('latin1')).toBe('\tdns64 2001:db8:64:a::/96 { };\n'); // indented inside options
  });

  it('writeAtomic replaces the file whole and keeps its mode', async () => {
    const output = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-out-')), 'dns64.conf');
    writeFileSync(output, 'old;\n', { mode: 0o640 });
    const f = new OutputFile(new LocalHost(), { mode: 'include', output }, label);
    await f.writeAtomic(output, Buffer.from('back;\n'));
    expect(readFileSync(output, 'utf8')).toBe('back;\n');
  });
});

describe('OutputFile.drift (issue 20)', () => {
  const rendered = 'dns64 2001:db8:64:a::/96 { };\ndns64 2001:db8:64:b::/96 { };\n';

  it('include mode: removed, empty, truncated and edited files told apart; the written text is no drift', async () => {
    const output = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-out-')), 'dns64.conf');
    const f = new OutputFile(new LocalHost(), { mode: 'include', output }, label);
    expect(await f.drift(rendered)).toEqual({ file: output, detail: 'the file was removed' });
    writeFileSync(output, '');
    expect((await f.drift(rendered))?.detail).toBe('the file is empty');
    writeFileSync(output, rendered.slice(0, 20));
    expect((await f.drift(rendered))?.detail).toBe(`the file was truncated to 20 of ${rendered.length} bytes`);
    writeFileSync(output, rendered.replace('64:b::', '64:d::') + '# mine\n');
    expect((await f.drift(rendered))?.detail).toBe('the file was edited (2 lines added, 1 removed)');
    writeFileSync(output, rendered);
    expect(await f.drift(rendered)).toBeNull();
  });

  it('block mode: only the managed block is ours; an edit outside it is no drift', async () => {
    const output = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-out-')), 'named.conf.options');
    const f = new OutputFile(new LocalHost(), { mode: 'block', output }, label);
    const operator = 'options {\n\tdirectory "/var/cache/bind";\n};\n';
    writeFileSync(output, operator);
    expect((await f.drift(rendered))?.detail).toBe('the managed block was removed');
    const written = (await f.desired(rendered)).desired.toString('latin1');
    writeFileSync(output, written.replace('directory', 'recursion yes;\n\tdirectory'));
    expect(await f.drift(rendered)).toBeNull();
    writeFileSync(output, written.replace('64:b::', '64:d::'));
    expect(await f.drift(rendered)).toEqual({ file: output, detail: 'the managed block was edited' });
  });
});

describe('OutputFile.drift: a stat each round, a read only after a change', () => {
  it('reads the file again only when its stamp changed; an edit that keeps size and mtime is still seen', async () => {
    const output = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-out-')), 'dns64.conf');
    const rendered = 'dns64 2001:db8:64:a::/96 { };\n';
    writeFileSync(output, rendered);
    let reads = 0;
    const host = new LocalHost();
    const read = host.read.bind(host);
    host.read = (file: string) => {
      reads++;
      return read(file);
    };
    const f = new OutputFile(host, { mode: 'include', output }, label);
    expect(await f.drift(rendered)).toBeNull();
    expect(await f.drift(rendered)).toBeNull();
    expect(reads).toBe(1);
    // same size, mtime put back: only the ctime (and the content) tell
    const { mtime } = statSync(output);
    writeFileSync(output, rendered.replace('64:a', '64:d'));
    utimesSync(output, mtime, mtime);
    expect((await f.drift(rendered))?.detail).toBe('the file was edited (1 line added, 1 removed)');
    expect(reads).toBe(2);
    // another rendered text is compared, whatever the stamp
    writeFileSync(output, rendered);
    expect(await f.drift(rendered)).toBeNull();
    expect((await f.drift('dns64 2001:db8:64:b::/96 { };\n'))?.detail).toMatch(/^the file was edited/);
    expect(reads).toBe(4);
  });
});
