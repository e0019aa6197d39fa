// The sweep on this host's files: stale leftovers go, young ones stay and are looked at again.
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHADOW_PREFIX } from '../../../src/apply/host.js';
import { LocalHost } from '../../../src/apply/local/host.js';
import { Sweeper } from '../../../src/apply/sweep.js';
import { tempPrefixFor } from '../../../src/lib/files.js';

const old = (file: string) => utimesSync(file, new Date(0), new Date(0));

describe('Sweeper', () => {
  it('removes stale temp files and shadow directories, keeps young ones and the operator files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-sweep-'));
    const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'nh-sweep-tmp-'));
    const output = path.join(dir, 'dns64.conf');
    const staleTemp = path.join(dir, `${tempPrefixFor(output)}aaaa`);
    const youngTemp = path.join(dir, `${tempPrefixFor(output)}bbbb`);
    const staleShadow = path.join(tmpDir, `${SHADOW_PREFIX}cccc`);
    for (const f of [output, staleTemp, youngTemp, path.join(dir, 'named.conf')]) writeFileSync(f, '');
    mkdirSync(staleShadow);
    writeFileSync(path.join(staleShadow, 'named.conf'), '');
    old(staleTemp);
    old(staleShadow);
    const sweeper = new Sweeper(new LocalHost(), output, tmpDir, 60_000);
    await sweeper.sweepIfDue();
    expect(readdirSync(dir).sort()).toEqual([path.basename(youngTemp), 'dns64.conf', 'named.conf'].sort());
    expect(readdirSync(tmpDir)).toEqual([]);
    // a young leftover was seen: the next apply looks again
    old(youngTemp);
    await sweeper.sweepIfDue();
    expect(readdirSync(dir).sort()).toEqual(['dns64.conf', 'named.conf']);
    // nothing young left and the same connection: no more look
    writeFileSync(staleTemp, '');
    old(staleTemp);
    await sweeper.sweepIfDue();
    expect(readdirSync(dir)).toContain(path.basename(staleTemp));
  });
});
