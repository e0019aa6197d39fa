/**
 * The apply history against a real named, written to over this host (local) and over a real
 * OpenSSH server (ssh), both on loopback: the daemon (in-process, probes replaced by canned
 * outcomes, real targets from the config) changes the set twice; each change leaves one entry
 * whose diff turns the live file before into the live file after, rounds that change nothing leave
 * none, `history.keep` bounds the file, and a corrupt history file is set aside without holding
 * back the apply. The built CLI reads the files back.
 */
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPatch } from 'diff';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNamed, type NamedInstance } from '../../support/named.js';
import { startSshd, type SshdInstance } from '../../support/sshd.mjs';
import { waitFor } from '../../support/wait.js';
import { queryServedPrefixes } from '../../../src/apply/verify.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { cannedProber } from '../../support/canned-prober.js';
import { loadConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/lib/log.js';
import { historyDir, historyFile, parseHistory, type HistoryEntry } from '../../../src/apply/history.js';
import { A, B, C } from '../../support/prefixes.js';

const CLI = fileURLToPath(new URL('../../../bin/nat64-health.js', import.meta.url));
const www = { [A]: '2001:db8:64:a::c000:20a', [B]: '2001:db8:64:b::c000:20a', [C]: '2001:db8:64:c::c000:20a' };

const good = new Set<string>();
const prober = cannedProber(good);

let named: NamedInstance;
let sshd: SshdInstance;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'nh-history-'));
  [named, sshd] = await Promise.all([startNamed({ listen: '127.0.0.1', mode: 'include' }), startSshd()]);
  // a named just started may not answer ipv4only.arpa yet (its automatic zones load after rndc is up)
  const server = { server: '127.0.0.1', port: named.port, timeout: 1000 };
  await waitFor('named to answer ipv4only.arpa', () => queryServedPrefixes(server).then(() => true), 10_000);
});

afterAll(async () => {
  await Promise.all([named?.stop(), sshd?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

type Kind = 'local' | 'ssh';

describe.each<[Kind]>([['local'], ['ssh']])('apply history (%s target)', (kind) => {
  const name = kind === 'local' ? 'local' : 'dns64-2';
  /** the diff's file name: a remote file carries its target's name */
  const label = () => (kind === 'local' ? named.includeFile : `dns64-2:${named.includeFile}`);
  const logs: string[] = [];

  async function setup(keep = 100, reload = [...named.rndcArgv, 'reconfig']) {
    await writeFile(named.includeFile, '');
    await named.reconfig();
    const dir = await mkdtemp(path.join(work, `${kind}-`));
    const stateFile = path.join(dir, 'state.json');
    const bind = (indent: string) =>
      [
        `mode: include`,
        `output: ${named.includeFile}`,
        `checkconf: ${JSON.stringify(named.checkconfArgv)}`,
        `reload: ${JSON.stringify(reload)}`,
        `verify: { server: "127.0.0.1", port: ${named.port} }`,
      ]
        .map((l) => indent + l)
        .join('\n');
    const targets =
      kind === 'local'
        ? ''
        : `targets:
  - name: dns64-2
    ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, private_key: ${sshd.clientKey}, \
known_hosts: ${sshd.knownHosts}, timeout: 5s }
    bind:
${bind('      ')}
`;
    const configFile = path.join(dir, 'config.yaml');
    await writeFile(
      configFile,
      `prefixes: [${A}, ${B}, ${C}]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { interval: 1h, fast_interval: 1h, timeout: 1s, rise: 1, fall: 1 }
select: { min_active: 1, max_active: 1, drain: 0 }
bind:
${bind('  ')}
state_file: ${stateFile}
history: { keep: ${keep} }
${targets}`,
    );
    const config = loadConfig(configFile);
    const log = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });
    const daemon = new Daemon({ configPath: configFile, config, log, watch: false, prober });
    const file = historyFile(historyDir(stateFile), name);
    const entries = async () => parseHistory(await readFile(file, 'utf8'), file, name);
    /** one round with these prefixes up; resolves when its apply (also a background one) is done */
    const round = async (...up: string[]) => {
      good.clear();
      for (const p of up) good.add(p);
      await daemon.step();
      await daemon.settled();
      return readFile(named.includeFile, 'utf8');
    };
    return { daemon, file, entries, round, configFile, dir };
  }

  it('two set changes: one entry each, whose diff turns the live file before into the one after', async () => {
    const { daemon, entries, round, configFile } = await setup();
    try {
      const live = [await readFile(named.includeFile, 'utf8')];
      live.push(await round(A));
      await round(A); // nothing changes: no entry
      live.push(await round(B));
      live.push(await round(C));
      expect(await named.aaaa('www.example.test')).toEqual([www[C]]);

      const h = await entries();
      expect(h.map((e) => [e.id, e.old, e.new])).toEqual([
        [1, null, [A]],
        [2, [A], [B]],
        [3, [B], [C]],
      ]);
      // Verified after each apply, the first too: named 9.18 may answer the first ipv4only.arpa
      // query after a reconfig that turns dns64 on with SERVFAIL (4 of 20 tries, measured), which the
      // runner asks again until BIND has settled.
      for (const e of h) {
        expect(e.outcome, e.verification?.detail).toBe('applied');
        expect(e.verification).toMatchObject({ ok: true });
      }
      h.forEach((e, i) => {
        expect(e.target).toBe(name);
        expect(e.diff.split('\n').slice(0, 2)).toEqual([`--- ${label()}\tbefore`, `+++ ${label()}\tafter`]);
        expect(applyPatch(live[i]!, e.diff), `entry ${e.id}`).toBe(live[i + 1]);
        expect(e.verification).toMatchObject({ reapplied: false });
      });
      expect(h[1]!.diff).toMatch(/^-dns64 2001:db8:64:a::\/96 \{$/m);
      expect(h[1]!.diff).toMatch(/^\+dns64 2001:db8:64:b::\/96 \{$/m);
      expect(h[1]!.reason).toMatch(/^selection changed: /);
      expect(h[1]!.changes.map((c) => `${c.id} ${c.change}`).sort()).toEqual(
        [`${A} deactivated`, `${B} activated`].sort(),
      );

      // the CLI reads the same file back
      const r = await execa('node', [CLI, 'history', '-c', configFile, '--diff'], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain(`#3 ${name} applied at `);
      expect(r.stdout).toContain(`set: ${B} -> ${C} (+${C} -${B})`);
      expect(r.stdout).toContain(`+dns64 ${C} {`);
      const j = await execa('node', [CLI, 'history', '-c', configFile, '--json', '--target', name]);
      expect((JSON.parse(j.stdout) as { entries: HistoryEntry[] }).entries.map((e) => e.id)).toEqual([3, 2, 1]);
    } finally {
      await daemon.stop();
    }
  });

  it('keeps history.keep entries: the newest, ids counting on', async () => {
    const { daemon, entries, round } = await setup(2);
    try {
      for (const p of [A, B, C, A]) await round(p);
      const h = await entries();
      expect(h.map((e) => [e.id, e.new])).toEqual([
        [3, [C]],
        [4, [A]],
      ]);
      expect(h[1]!.diff).toMatch(/^\+dns64 2001:db8:64:a::\/96 \{$/m);
    } finally {
      await daemon.stop();
    }
  });

  it('a failed reload: a "rolled back" entry with the diff it tried; its retries count in that entry', async () => {
    const { daemon, entries, round } = await setup(100, ['sh', '-c', 'echo no reload here >&2; exit 1']);
    try {
      expect(await round(A)).toBe(''); // rolled back
      const [e] = await entries();
      expect(e).toMatchObject({ id: 1, outcome: 'rolled back', stage: 'reload', old: null, new: [A] });
      expect(e!.error).toContain('no reload here');
      expect(applyPatch('', e!.diff)).toMatch(/^dns64 2001:db8:64:a::\/96 \{$/m);
      // the retry (after a 1 s backoff) fails the same way: counted, not added
      await new Promise((r) => setTimeout(r, 1100));
      await round(A);
      await expect
        .poll(async () => (await entries()).map((x) => [x.id, x.attempts]), { timeout: 10_000 })
        .toEqual([[1, expect.any(Number)]]);
      expect((await entries())[0]!.attempts).toBeGreaterThanOrEqual(2);
      expect(await readFile(named.includeFile, 'utf8')).toBe('');
    } finally {
      await daemon.stop();
    }
  });

  it('a corrupt history file is set aside as .bad and a fresh history starts; BIND gets the set', async () => {
    const { daemon, file, entries, configFile } = await setup();
    const corrupt = '{"version":1,"target":"' + name + '","entries":[{"id":1,"at":"2026-';
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, corrupt);

    // the CLI refuses it, names the file and changes nothing
    const r = await execa('node', [CLI, 'history', '-c', configFile], { reject: false });
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toContain(`${file}: not a nat64-health apply history: not JSON`);
    expect(await readFile(file, 'utf8')).toBe(corrupt);

    good.clear();
    good.add(B);
    const running = daemon.start();
    try {
      await expect.poll(() => entries().catch(() => []), { timeout: 20_000 }).toHaveLength(1);
      expect(await named.aaaa('www.example.test')).toEqual([www[B]]);
      const [first] = await entries();
      expect(first).toMatchObject({ id: 1, new: [B], outcome: 'applied' });
      expect(await readFile(`${file}.bad`, 'utf8')).toBe(corrupt);
      expect((await readdir(path.dirname(file))).sort()).toEqual([`${name}.json`, `${name}.json.bad`]);
      const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.file === file);
      expect(line).toMatchObject({
        level: 'error',
        msg: 'apply history file unreadable; kept aside, starting a fresh history',
        kept_as: `${file}.bad`,
      });
    } finally {
      await daemon.stop();
      await running;
    }
  });
});
