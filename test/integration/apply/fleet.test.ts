/**
 * A fleet of DNS64 resolvers: the daemon (the real CLI, in a network namespace with simulated
 * NAT64 prefixes, see daemon-fixture.ts) manages its local named and, over a real OpenSSH server,
 * a second real named. Plus two SSH targets that must fail without affecting anybody else: one
 * whose host key does not match known_hosts, and one whose named.conf fails named-checkconf.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../../support/netns.js';
import { startWorld, type World } from '../../support/world.js';
import { startNamed, type NamedInstance } from '../../support/named.js';
import { makeKeyPair, startSshd, type SshdInstance } from '../../support/sshd.mjs';
import { CLI, DaemonProcess, DNS_TARGET, setPrefixAlive, TARGET, waitFor, www } from '../../support/daemon-fixture.js';
import { A, B, C } from '../../support/prefixes.js';

const LOCAL_ADDR = '2001:db8:53::1';
const REMOTE_ADDR = '2001:db8:100::53';
const BROKEN_ADDR = '2001:db8:100::54';

interface TargetState {
  name: string;
  last_apply: { result: string; stage?: string; error?: string; at: string; rolled_back?: boolean } | null;
  serving: string[] | null;
}
interface State {
  round: number;
  active: string[];
  targets: TargetState[];
  applies: Array<{ target: string; result: string; at: string }>;
}

let ns: Netns;
let sshd: SshdInstance;
let local: NamedInstance;
let remote: NamedInstance;
let broken: NamedInstance;
let daemon: DaemonProcess;
let dir: string;
let stateFile: string;
let configFile: string;
/** every on_change document, one a line */
let hookFile: string;
let brokenOptions: string;

/** rndc as run inside the namespace (the daemon and sshd live there already). */
const inNs = (argv: string[]) => (argv[0] === 'ip' ? argv.slice(4) : argv);

const state = async (): Promise<State> => JSON.parse(await readFile(stateFile, 'utf8')) as State;
const target = (s: State, name: string) => s.targets.find((t) => t.name === name)!;
const cli = (args: string[]) => ns.run(['node', CLI, ...args], { timeoutMs: 30_000 });

let world: World;

beforeAll(async () => {
  world = await startWorld('fleet', { alive: [A, B, C] });
  ({ ns, dir } = world);
  [local, remote, broken, sshd] = await Promise.all([
    startNamed({ netns: ns, listen: LOCAL_ADDR, mode: 'include' }),
    startNamed({ netns: ns, listen: REMOTE_ADDR, mode: 'include' }),
    startNamed({ netns: ns, listen: BROKEN_ADDR, mode: 'include' }),
    startSshd({ listen: REMOTE_ADDR, port: 22, spawn: (argv, logFile) => ns.spawn(argv, { logFile }) }),
  ]);
  // the "remote" host is down when the daemon starts
  await sshd.down();

  // named keeps running on its loaded config, but named-checkconf now rejects its named.conf
  brokenOptions = await readFile(broken.optionsConf, 'utf8');
  await writeFile(broken.optionsConf, brokenOptions.replace('notify no;', 'notify no;\n\tno-such-option yes;'));

  const wrongHostKey = path.join(dir, 'wrong_host_key');
  const wrongKnownHosts = path.join(dir, 'known_hosts.wrong');
  await writeFile(wrongKnownHosts, `${REMOTE_ADDR} ${await makeKeyPair(wrongHostKey)}\n`);

  stateFile = path.join(dir, 'state.json');
  configFile = path.join(dir, 'config.yaml');
  hookFile = path.join(dir, 'on_change.jsonl');
  const ssh = (knownHosts: string) =>
    `{ host: ${REMOTE_ADDR}, port: 22, user: root, private_key: ${sshd.clientKey}, ` +
    `known_hosts: ${knownHosts}, timeout: 3s, keepalive: 5s }`;
  await writeFile(
    configFile,
    `prefixes: [${A}, ${B}, ${C}]
probes:
  - { type: tcp, address: ${TARGET}, port: 80 }
  - { type: http, address: ${TARGET}, port: 8080, path: /health }
  - { type: dns, address: ${DNS_TARGET}, port: 5353, name: probe.example.test }
health: { interval: 400ms, fast_interval: 200ms, timeout: 300ms, rise: 2, fall: 2 }
select: { min_active: 1, max_active: 2, drain: 1h }
bind:
  mode: include
  output: ${local.includeFile}
  checkconf: ${JSON.stringify(local.checkconfArgv)}
  reload: ${JSON.stringify([...inNs(local.rndcArgv), 'reconfig'])}
  verify: { server: "${LOCAL_ADDR}", port: ${local.port} }
state_file: ${stateFile}
hooks: { on_change: [sh, -c, ${JSON.stringify(`cat >> ${hookFile}`)}], timeout: 5s }
targets:
  - name: local
  - name: dns64-2
    ssh: ${ssh(sshd.knownHosts)}
    bind:
      mode: include
      output: ${remote.includeFile}
      checkconf: ${JSON.stringify(remote.checkconfArgv)}
      reload: ${JSON.stringify([...inNs(remote.rndcArgv), 'reconfig'])}
      verify: { port: ${remote.port}, interval: 2s }
  - name: dns64-spoofed
    ssh: ${ssh(wrongKnownHosts)}
    bind:
      output: ${path.join(remote.dir, 'never-written.conf')}
      checkconf: ${JSON.stringify(remote.checkconfArgv)}
      reload: ${JSON.stringify([...inNs(remote.rndcArgv), 'reconfig'])}
  - name: dns64-broken
    ssh: ${ssh(sshd.knownHosts)}
    bind:
      output: ${broken.includeFile}
      checkconf: ${JSON.stringify(broken.checkconfArgv)}
      reload: ${JSON.stringify([...inNs(broken.rndcArgv), 'reconfig'])}
      verify: { server: "${BROKEN_ADDR}", port: ${broken.port} } # one sshd stands for two hosts here
`,
  );
  daemon = DaemonProcess.start(ns, configFile, path.join(dir, 'daemon.log'));
});

afterAll(async () => {
  await daemon?.stop();
  await Promise.all([sshd?.stop(), local?.stop(), remote?.stop(), broken?.stop()]);
  await world?.stop();
});

const sorted = (xs: string[]) => [...xs].sort();

describe('fleet: local BIND plus SSH targets', () => {
  it('applies to the local BIND while the SSH target is still down (nothing waits for it)', async () => {
    // The SSH target's attempt runs in the background: wait for its (failed) result too.
    const s = await waitFor('local applied, dns64-2 tried', async () => {
      const s = await state().catch(() => null);
      return s && target(s, 'local').last_apply?.result === 'applied' && target(s, 'dns64-2').last_apply && s;
    });
    // counted from the daemon's own start, not from the spawn: node's start-up is no part of it
    const started = (await daemon.logs()).find((l) => l.msg === 'starting');
    expect(Date.parse(target(s, 'local').last_apply!.at) - Date.parse(String(started!.time))).toBeLessThan(8_000);
    const t2 = target(s, 'dns64-2');
    expect(t2.last_apply).toMatchObject({ result: 'failed', stage: 'connect' });
    expect(t2.last_apply!.error).toMatch(/dns64-2: cannot connect to root@2001:db8:100::53: ECONNREFUSED/);
    expect(t2.serving).toBeNull();
    expect(await local.aaaa('www.example.test')).toEqual(sorted(s.active.map(www)));
  });

  it('converges once the SSH target comes up: both named answer with the same prefixes', async () => {
    await sshd.up();
    const s = await waitFor(
      'dns64-2 applied',
      async () => {
        const s = await state();
        const t = target(s, 'dns64-2');
        return t.last_apply?.result === 'applied' && sorted(t.serving ?? []).join() === sorted(s.active).join() && s;
      },
      40_000,
    );
    expect(s.active).toHaveLength(2);
    const want = sorted(s.active.map(www));
    expect(await local.aaaa('www.example.test')).toEqual(want);
    expect(await remote.aaaa('www.example.test')).toEqual(want);
    expect(await readFile(remote.includeFile, 'utf8')).toBe(await readFile(local.includeFile, 'utf8'));
  });

  it('refuses the target whose host key does not match, naming it and the fingerprint seen', async () => {
    const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], { input: sshd.hostPub })
      .toString()
      .split(' ')[1]!;
    const t = await waitFor(
      'dns64-spoofed refused',
      async () => {
        const t = target(await state(), 'dns64-spoofed');
        return t.last_apply?.error?.includes('HOST KEY MISMATCH') && t;
      },
      40_000,
    );
    expect(t.last_apply).toMatchObject({ result: 'failed', stage: 'connect' });
    expect(t.last_apply!.error).toContain('dns64-spoofed');
    expect(t.last_apply!.error).toContain(`presented ssh-ed25519 ${fp}`);
    expect(t.serving).toBeNull();
  });

  it('remote checkconf fails: the live file stays untouched and the error shows in status', async () => {
    const t = await waitFor(
      'dns64-broken failed validation',
      async () => {
        const t = target(await state(), 'dns64-broken');
        return t.last_apply?.stage === 'validate' && t;
      },
      40_000,
    );
    expect(t.last_apply).toMatchObject({ result: 'failed', stage: 'validate' });
    expect(t.last_apply!.error).toMatch(/unknown option 'no-such-option'/);
    expect(t.last_apply!.error).toContain(broken.optionsConf);
    expect(await readFile(broken.includeFile, 'utf8')).toBe('');
    expect(await broken.aaaa('www.example.test')).toEqual([]);

    const text = await cli(['status', '-c', configFile]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/dns64-broken/);
    expect(text.stdout).toMatch(/no-such-option/);
    const json = JSON.parse((await cli(['status', '-c', configFile, '--json'])).stdout) as State;
    expect(json.targets.map((x) => x.name)).toEqual(['local', 'dns64-2', 'dns64-spoofed', 'dns64-broken']);
    for (const x of json.targets)
      expect(Object.keys(x)).toEqual(expect.arrayContaining(['name', 'last_apply', 'serving']));
  });

  it('the failed target retries with backoff and converges once its named.conf is fixed', async () => {
    await writeFile(broken.optionsConf, brokenOptions);
    const s = await waitFor(
      'dns64-broken applied',
      async () => {
        const s = await state();
        return target(s, 'dns64-broken').last_apply?.result === 'applied' && s;
      },
      70_000,
    );
    expect(await broken.aaaa('www.example.test')).toEqual(sorted(s.active.map(www)));
  }, 120_000); // longer than its 70 s wait

  it('a new selection reaches every reachable target: same prefixes from both named', async () => {
    const before = (await state()).active;
    const dead = before[0]!;
    await setPrefixAlive(ns, dead, false);
    try {
      const s = await waitFor(
        'new set everywhere',
        async () => {
          const s = await state();
          if (s.active.includes(dead)) return false;
          const ok = ['local', 'dns64-2', 'dns64-broken'].every(
            (n) => sorted(target(s, n).serving ?? []).join() === sorted(s.active).join(),
          );
          return ok && s;
        },
        40_000,
      );
      const want = sorted(s.active.map(www));
      expect(await local.aaaa('www.example.test')).toEqual(want);
      expect(await remote.aaaa('www.example.test')).toEqual(want);
      expect(await broken.aaaa('www.example.test')).toEqual(want);
      expect(want).not.toContain(www(dead));
    } finally {
      await setPrefixAlive(ns, dead, true);
    }
  });

  it("each target's apply history tells its story; `history` reads it and refuses an unknown target", async () => {
    interface Entry {
      id: number;
      target: string;
      outcome: string;
      stage?: string;
      error?: string;
      new: string[];
      diff: string;
      attempts?: number;
    }
    const r = await cli(['history', '-c', configFile, '--json', '-n', '0']);
    expect(r.exitCode, r.stderr).toBe(0);
    const all = (JSON.parse(r.stdout) as { entries: Entry[] }).entries.reverse(); // oldest first
    const of = (name: string) => all.filter((e) => e.target === name);
    const s = await state();
    // local: applied every time; the newest entry is the set it serves, its diff names the file
    expect(of('local').map((e) => e.outcome)).toEqual(of('local').map(() => 'applied'));
    expect(sorted(of('local').at(-1)!.new)).toEqual(sorted(s.active));
    expect(of('local').at(-1)!.diff).toContain(`--- ${local.includeFile}\tbefore`);
    // dns64-2: down at first (connect failures, retries counted in one entry), then applied
    const remoteStory = of('dns64-2');
    expect(remoteStory[0]).toMatchObject({ outcome: 'failed', stage: 'connect' });
    expect(remoteStory[0]!.error).toMatch(/ECONNREFUSED/);
    expect(remoteStory.at(-1)).toMatchObject({ outcome: 'applied' });
    expect(remoteStory.at(-1)!.diff).toContain(`--- dns64-2:${remote.includeFile}\tbefore`);
    // the spoofed host: down, then refused; never connected, so the diff is of the rendered text
    const spoofed = of('dns64-spoofed');
    for (const e of spoofed) {
      expect(e).toMatchObject({ outcome: 'failed', stage: 'connect' });
      expect(e.error).toMatch(/ECONNREFUSED|HOST KEY MISMATCH/);
      expect(e.diff).toMatch(/^--- \(rendered text\)\t/);
    }
    expect(spoofed.at(-1)!.error).toContain('HOST KEY MISMATCH');
    // the broken named.conf: refused by named-checkconf, then applied once fixed
    const brokenStory = of('dns64-broken');
    const refused = brokenStory.find((e) => e.outcome === 'validation failed')!;
    expect(refused.error).toMatch(/unknown option 'no-such-option'/);
    expect(refused.diff).toContain(`+++ dns64-broken:${broken.includeFile}\tafter`);
    expect(brokenStory.at(-1)!.outcome).toBe('applied');
    expect(brokenStory.indexOf(refused)).toBeLessThan(brokenStory.length - 1);

    const text = await cli(['history', '-c', configFile, '--target', 'dns64-broken', '--diff', '-n', '0']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^#\d+ dns64-broken validation failed at /m);
    const unknown = await cli(['history', '-c', configFile, '--target', 'dns64-9']);
    expect(unknown.exitCode).toBe(65);
    expect(unknown.stderr).toContain('the configured targets are local, dns64-2, dns64-spoofed, dns64-broken');
  });

  it('maintenance takes a prefix out of the remote BIND too; on_change names the target, old and new set', async () => {
    const inLine = async () => {
      const s = await state();
      const ok = ['local', 'dns64-2'].every(
        (n) => sorted(target(s, n).serving ?? []).join() === sorted(s.active).join(),
      );
      return ok && s;
    };
    const before = await waitFor('every reachable target in line', inLine, 40_000);
    const held = before.active[0]!;
    const r = await cli(['maintenance', held, 'on', '--reason', 'fleet upgrade', '-c', configFile]);
    expect(r.exitCode, r.stderr).toBe(0);
    const after = await waitFor(
      `${held} out on the remote target`,
      async () => {
        const s = await inLine();
        return s && !target(s, 'dns64-2').serving!.includes(held) && s;
      },
      40_000,
    );
    expect(after.active).not.toContain(held);
    const want = sorted(after.active.map(www));
    expect(await remote.aaaa('www.example.test')).toEqual(want);
    expect(await local.aaaa('www.example.test')).toEqual(want);
    expect(await readFile(remote.includeFile, 'utf8')).toMatch(
      new RegExp(`dns64 ${held.replace(/[/.]/g, '\\$&')} \\{\\n\\t// .* is draining.*\\n\\tclients \\{ none; \\};`),
    );
    interface Change {
      target: string;
      old: string[] | null;
      new: string[];
      draining: string[];
      changes: Array<{ id: string; reason: string }>;
    }
    const docs = async () =>
      (await readFile(hookFile, 'utf8').catch(() => ''))
        .split('\n')
        .slice(0, -1) // a line the hook is still writing has no newline yet
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Change);
    const doc = await waitFor('the on_change hook for dns64-2', async () =>
      (await docs()).find((d) => d.target === 'dns64-2' && !!d.old?.includes(held) && !d.new.includes(held)),
    );
    expect(doc).toMatchObject({ event: 'change', target: 'dns64-2', old: before.active, new: after.active });
    expect(doc.draining).toContain(held);
    expect(doc.changes).toContainEqual(
      expect.objectContaining({ id: held, reason: 'in maintenance: fleet upgrade; draining' }),
    );
    // the local target's run is its own document
    expect((await docs()).some((d) => d.target === 'local' && !d.new.includes(held) && !!d.old?.includes(held))).toBe(
      true,
    );
    expect((await cli(['maintenance', held, 'off', '-c', configFile])).exitCode).toBe(0);
  });

  it('`targets test` checks every target without changing anything', async () => {
    const before = await Promise.all(
      [local.includeFile, remote.includeFile, broken.includeFile].map((f) => readFile(f, 'utf8')),
    );
    const r = await cli(['targets', 'test', '-c', configFile]);
    expect(r.exitCode, r.stderr).toBe(1); // some ready, one not
    expect(r.stdout).toMatch(/^local \(this host\): OK$/m);
    expect(r.stdout).toMatch(/^dns64-2 \(root@\[2001:db8:100::53\]:22\): OK$/m);
    expect(r.stdout).toMatch(/^dns64-spoofed \(root@\[2001:db8:100::53\]:22\): FAILED$/m);
    expect(r.stdout).toMatch(
      /FAIL {2}connect +HOST KEY MISMATCH for 2001:db8:100::53: the server presented ssh-ed25519 SHA256:/,
    );
    expect(r.stdout).toMatch(/1 of 4 target\(s\) not ready/);
    // BIND on each is asked what it serves: the set the daemon applied
    expect(r.stdout).toMatch(/^ {2}ok {4}verify +BIND serves the decided set: 2001:db8:64:/m);
    const json = JSON.parse((await cli(['targets', 'test', '-c', configFile, '--json'])).stdout) as {
      targets: Array<{ name: string; ok: boolean; checks: Array<{ check: string; ok: boolean }> }>;
    };
    expect(json.targets.map((t) => [t.name, t.ok])).toEqual([
      ['local', true],
      ['dns64-2', true],
      ['dns64-spoofed', false],
      ['dns64-broken', true],
    ]);
    expect(json.targets[1]!.checks.map((c) => c.check)).toEqual([
      'connect',
      'sftp',
      'output',
      'include',
      'checkconf',
      'reload',
      'verify',
    ]);
    const after = await Promise.all(
      [local.includeFile, remote.includeFile, broken.includeFile].map((f) => readFile(f, 'utf8')),
    );
    expect(after).toEqual(before);
  });

  it('a removed remote include is written back at its next verification (drift repair over SSH)', async () => {
    await waitFor('dns64-2 serving', async () => (await state()).targets.find((t) => t.name === 'dns64-2')?.serving);
    const text = await readFile(remote.includeFile, 'utf8');
    await rm(remote.includeFile);
    const line = await waitFor('the repair', async () =>
      (await daemon.logs()).find((l) => l.level === 'warn' && /^dns64-2: .* the file was removed/.test(l.msg)),
    );
    expect(line.msg).toContain(`dns64-2:${remote.includeFile} is not what was written there`);
    await waitFor('the remote file back', async () => (await readFile(remote.includeFile, 'utf8')) === text);
    expect(await remote.aaaa('www.example.test')).toEqual(sorted((await state()).active.map(www)));
  });
});
