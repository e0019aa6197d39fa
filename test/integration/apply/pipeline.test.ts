/**
 * SshBindTarget against a real OpenSSH server and a real named, both on host loopback (127.0.0.1,
 * random ports). Every DNS answer checked here comes from named; every failure is a real one:
 * killed sshd sessions, a TCP proxy that cuts or stalls the connection, a rotated host key.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNamed, type NamedInstance } from '../../support/named.js';
import { makeKeyPair, startSshd, type SshdInstance } from '../../support/sshd.mjs';
import { BindTarget } from '../../../src/apply/pipeline.js';
import type { BindSettings } from '../../../src/apply/target.js';
import { LocalHost } from '../../../src/apply/local/host.js';
import { SshHost } from '../../../src/apply/ssh/host.js';
import { waitFor } from '../../support/wait.js';

type RemoteBindSettings = BindSettings;
type Kind = 'local' | 'ssh';
/** the SSH target under test (its session), for the SSH-only checks */
const sessionOf = (t: BindTarget) => (t.host as SshHost).session;

const A = 'dns64 2001:db8:64:a::/96 { clients { any; }; };\n';
const B = 'dns64 2001:db8:64:b::/96 { clients { any; }; };\n';
const AB = A + B;
const WWW_A = '2001:db8:64:a::c000:20a';
const WWW_B = '2001:db8:64:b::c000:20a';

let sshd: SshdInstance;
let named: NamedInstance;
let work: string;
const targets: BindTarget[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'nh-sshtarget-'));
  await mkdir(path.join(work, 'rtmp'));
  [sshd, named] = await Promise.all([startSshd(), startNamed({ listen: '127.0.0.1', mode: 'include' })]);
});

afterAll(async () => {
  await Promise.all(targets.map((t) => t.close()));
  await sshd?.stop();
  await named?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.close()));
});

function bindFor(n: NamedInstance, over: Partial<RemoteBindSettings> = {}): RemoteBindSettings {
  return {
    mode: 'include',
    output: n.includeFile,
    checkconf: n.checkconfArgv,
    reload: [...n.rndcArgv, 'reconfig'],
    command_timeout: 10_000,
    ...over,
  };
}

function makeTarget(
  over: Partial<RemoteBindSettings> = {},
  ep: Partial<{ port: number; known_hosts: string; private_key: string; timeout: number }> = {},
  n = named,
  kind: Kind = 'ssh',
): BindTarget {
  const host =
    kind === 'local'
      ? new LocalHost()
      : new SshHost({
          name: 'dns64-2',
          host: '127.0.0.1',
          port: ep.port ?? sshd.port,
          user: 'root',
          private_key: ep.private_key ?? sshd.clientKey,
          known_hosts: ep.known_hosts ?? sshd.knownHosts,
          timeout: ep.timeout ?? 5_000,
          keepalive: 1_000,
        });
  const t = new BindTarget(kind === 'local' ? 'local' : 'dns64-2', host, bindFor(n, over), {
    background: kind === 'ssh',
    // a tmp of its own: /tmp is shared with everything else running on this host
    staleAfterMs: 0,
    tmpDir: path.join(work, 'rtmp'),
  });
  targets.push(t);
  return t;
}

const target = (
  over: Partial<RemoteBindSettings> = {},
  ep: Partial<{ port: number; known_hosts: string; private_key: string; timeout: number }> = {},
  n = named,
) => makeTarget(over, ep, n, 'ssh');

async function reset(text = '') {
  await writeFile(named.includeFile, text);
  await named.reconfig();
}

/** Our temp files beside the output and shadow dirs in /tmp (none may stay behind). */
async function leftovers(n = named): Promise<string[]> {
  const beside = (await readdir(path.dirname(n.includeFile))).filter((f) => f.includes('.nat64-health-'));
  return beside;
}

async function shadowDirs(): Promise<string[]> {
  return readdir(path.join(work, 'rtmp'));
}

async function acceptedLogins(): Promise<number> {
  return ((await sshd.log()).match(/Accepted publickey/g) ?? []).length;
}

/** A checkconf or reload wrapper that kills its own sshd session (the TCP connection drops) once per flag file. */
async function dropper(name: string, then: string[]): Promise<{ argv: string[]; arm(): Promise<void> }> {
  const flag = path.join(work, `${name}.flag`);
  const script = path.join(work, `${name}.sh`);
  await writeFile(
    script,
    `#!/bin/sh\nif [ -e '${flag}' ]; then rm -f '${flag}'; kill -9 $PPID; sleep 5; exit 1; fi\nexec "$@"\n`,
  );
  await chmod(script, 0o755);
  return { argv: [script, ...then], arm: () => writeFile(flag, '') };
}

function sshKeygenFingerprint(pub: string): string {
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], { input: pub }).toString().split(' ')[1]!;
}

describe.each<[Kind]>([['local'], ['ssh']])('apply pipeline (%s host)', (kind) => {
  const target = (over: Partial<RemoteBindSettings> = {}, _ep = {}, n = named) => makeTarget(over, {}, n, kind);
  it('writes, validates, renames, reloads: named answers with the new set; an SSH connection is reused', async () => {
    await reset();
    const before = await acceptedLogins();
    const t = target();
    const r1 = await t.apply(A);
    expect(r1, r1.error).toMatchObject({ target: kind === 'ssh' ? 'dns64-2' : 'local', result: 'applied' });
    expect(await readFile(named.includeFile, 'utf8')).toBe(A);
    expect(await named.aaaa('www.example.test')).toEqual([WWW_A]);

    expect((await t.apply(A)).result).toBe('unchanged');
    const r3 = await t.apply(AB);
    expect(r3.result).toBe('applied');
    expect(await named.aaaa('www.example.test')).toEqual([WWW_A, WWW_B]);
    expect(await acceptedLogins()).toBe(before + (kind === 'ssh' ? 1 : 0));
    if (kind === 'ssh') expect(sessionOf(t).generation).toBe(1);
    expect(await leftovers()).toEqual([]);
  });

  it('readdir with a name prefix lists only the entries named so, with their type and mtime', async () => {
    const dir = path.join(work, `listing-${kind}`);
    await mkdir(path.join(dir, 'a-dir'), { recursive: true });
    for (const f of ['a1', 'a2', 'b1']) await writeFile(path.join(dir, f), '');
    const host = target().host;
    const a = await host.readdir(dir, 'a');
    expect(a.map((e) => [e.name, e.isDirectory]).sort()).toEqual([
      ['a-dir', true],
      ['a1', false],
      ['a2', false],
    ]);
    expect(a.every((e) => e.mtime > 0)).toBe(true);
    expect((await host.readdir(dir)).map((e) => e.name).sort()).toEqual(['a-dir', 'a1', 'a2', 'b1']);
  });

  it('keeps the owner and mode of the live file', async () => {
    await reset();
    await chmod(named.includeFile, 0o640);
    const r = await target().apply(B);
    expect(r.result).toBe('applied');
    const { stat } = await import('node:fs/promises');
    expect((await stat(named.includeFile)).mode & 0o777).toBe(0o640);
    await chmod(named.includeFile, 0o644);
  });

  it('creates the directory of a new include file', async () => {
    const d = path.join(work, `fresh-host-${kind}`);
    await mkdir(d);
    await writeFile(
      path.join(d, 'named.conf'),
      `options {\n\tdirectory "${d}";\n\tinclude "${d}/nat64-health/sub/dns64.conf";\n};\n`,
    );
    const t = target({
      output: path.join(d, 'nat64-health/sub/dns64.conf'),
      checkconf: ['named-checkconf', path.join(d, 'named.conf')],
      reload: ['true'],
    });
    const r = await t.apply(A);
    expect(r, r.error).toMatchObject({ result: 'applied' });
    expect(await readFile(path.join(d, 'nat64-health/sub/dns64.conf'), 'utf8')).toBe(A);
  });

  it('dry run: validates remotely but changes nothing', async () => {
    await reset(A);
    const r = await target().apply(B, { dryRun: true });
    expect(r.result).toBe('dry-run');
    expect(await readFile(named.includeFile, 'utf8')).toBe(A);
    expect(await leftovers()).toEqual([]);
  });

  it('block mode: splices the managed block into named.conf.options, every other byte kept (Latin-1 too)', async () => {
    const blockNamed = await startNamed({ listen: '127.0.0.1', mode: 'block' });
    try {
      // a Latin-1 e-acute in a comment: not UTF-8, and BIND does not mind
      await writeFile(
        blockNamed.optionsConf,
        Buffer.concat([Buffer.from('// caf\xe9 au lait\n', 'latin1'), await readFile(blockNamed.optionsConf)]),
      );
      await blockNamed.reconfig();
      const original = (await readFile(blockNamed.optionsConf)).toString('latin1');
      const t = target({ mode: 'block', output: blockNamed.optionsConf }, {}, blockNamed);
      const r = await t.apply(A);
      expect(r, r.error).toMatchObject({ result: 'applied' });
      const now = (await readFile(blockNamed.optionsConf)).toString('latin1');
      expect(now).toContain('// BEGIN nat64-health managed block');
      expect(now.replace(/\t\/\/ BEGIN nat64-health[\s\S]*?\/\/ END nat64-health managed block\n/, '')).toBe(original);
      expect(await blockNamed.aaaa('www.example.test')).toEqual([WWW_A]);
      // the apply history sees the managed block only: the rest of the file is the operator's
      const r2 = await t.apply(AB);
      const where = kind === 'ssh' ? `dns64-2:${blockNamed.optionsConf}` : blockNamed.optionsConf;
      expect(r2.output?.file).toBe(`${where} (managed block)`);
      expect(r2.output?.before?.toString('latin1')).toBe(`\t${A}`);
      expect(r2.output?.after.toString('latin1')).toBe(`\t${A}\t${B}`);
    } finally {
      await blockNamed.stop();
    }
  });

  it('checkconf fails: live file untouched, error names the live file, nothing left behind', async () => {
    await reset(A);
    const r = await target().apply('dns64 2001:db8:64:b::/96 { no-such-option yes; };\n');
    expect(r).toMatchObject({ result: 'failed', stage: 'validate' });
    expect(r.error).toMatch(/named-checkconf/);
    expect(r.error).toContain(named.includeFile);
    expect(r.error).not.toMatch(/nat64-health-check-|\.nat64-health-/);
    expect(await readFile(named.includeFile, 'utf8')).toBe(A);
    expect(await named.aaaa('www.example.test')).toEqual([WWW_A]);
    expect(await leftovers()).toEqual([]);
    expect(await shadowDirs()).toEqual([]);
  });

  it('an output that named.conf does not include is refused at validation', async () => {
    const r = await target({ output: path.join(named.dir, 'elsewhere.conf') }).apply(A);
    expect(r).toMatchObject({ result: 'failed', stage: 'validate' });
    expect(r.error).toMatch(/does not include .*elsewhere\.conf/);
  });

  it('a failed reload puts the previous file back', async () => {
    await reset(A);
    const r = await target({ reload: ['sh', '-c', 'echo "rndc: connect failed" >&2; exit 1'] }).apply(AB);
    expect(r).toMatchObject({ result: 'failed', stage: 'reload', rolled_back: true });
    expect(r.error).toContain('rndc: connect failed');
    expect(await readFile(named.includeFile, 'utf8')).toBe(A);
    expect(await leftovers()).toEqual([]);
  });

  it('a command that hangs times out; the file is rolled back over a new connection', async () => {
    await reset(A);
    const t = target({ reload: ['sleep', '30'], command_timeout: 500 });
    const start = Date.now();
    const r = await t.apply(B);
    expect(Date.now() - start, r.error).toBeLessThan(5_000);
    expect(r, r.error).toMatchObject({ result: 'failed', stage: 'reload', rolled_back: true });
    expect(r.error).toMatch(/timed out after 500 ms/);
    expect(await readFile(named.includeFile, 'utf8')).toBe(A);
    if (kind === 'ssh') expect(sessionOf(t).generation).toBe(2);
  });
});

describe('SSH host: host keys and private keys', () => {
  it('unknown host: refused, naming the target and the fingerprint seen', async () => {
    const kh = path.join(work, 'kh-empty');
    await writeFile(kh, '# nothing pinned\n');
    const r = await target({}, { known_hosts: kh }).apply(A);
    expect(r).toMatchObject({ result: 'failed', stage: 'connect' });
    expect(r.error).toContain('dns64-2');
    expect(r.error).toContain(`unknown host [127.0.0.1]:${sshd.port}`);
    expect(r.error).toContain(sshKeygenFingerprint(sshd.hostPub));
  });

  it('private key readable by others: refused without reading it', async () => {
    const key = path.join(work, 'id_loose');
    await writeFile(key, await readFile(sshd.clientKey));
    await chmod(key, 0o644);
    const r = await target({}, { private_key: key }).apply(A);
    expect(r).toMatchObject({ result: 'failed', stage: 'connect' });
    expect(r.error).toMatch(/dns64-2: private key .* accessible by group or others/);
    expect(r.error).not.toContain('PRIVATE KEY-----');
  });

  it('host key changed: refused with both fingerprints, live file untouched; accepted once re-pinned', async () => {
    await reset(A);
    const kh = path.join(work, 'kh-pinned');
    await writeFile(kh, await readFile(sshd.knownHosts));
    const oldPub = sshd.hostPub;
    await sshd.rotateHostKey();
    const t = target({}, { known_hosts: kh });
    const r = await t.apply(B);
    expect(r).toMatchObject({ result: 'failed', stage: 'connect' });
    expect(r.error).toContain('dns64-2');
    expect(r.error).toMatch(/HOST KEY MISMATCH/);
    expect(r.error).toContain(`presented ssh-ed25519 ${sshKeygenFingerprint(sshd.hostPub)}`);
    expect(r.error).toContain(sshKeygenFingerprint(oldPub));
    expect(await readFile(named.includeFile, 'utf8')).toBe(A);
    // the operator checks the new fingerprint and pins it: the next connect reads known_hosts again
    await writeFile(kh, await readFile(sshd.knownHosts));
    expect((await t.apply(B)).result).toBe('applied');
  });
});

describe('SSH host: the connection comes and goes', () => {
  it('target down at first, then up: the next apply converges', async () => {
    await reset(A);
    const t = target();
    await sshd.down();
    try {
      const r = await t.apply(B);
      expect(r).toMatchObject({ result: 'failed', stage: 'connect' });
      expect(r.error).toMatch(/cannot connect to root@\[127\.0\.0\.1\]:\d+: ECONNREFUSED/);
    } finally {
      await sshd.up();
    }
    expect((await t.apply(B)).result).toBe('applied');
    expect(await named.aaaa('www.example.test')).toEqual([WWW_B]);
  });

  it('sessions killed between applies: the next apply reconnects', async () => {
    await reset(A);
    const t = target();
    expect((await t.apply(B)).result).toBe('applied');
    await sshd.dropSessions();
    // the drop noticed (the connection's close), however long a loaded machine takes to deliver it
    await waitFor('the session to see its connection close', () => !sessionOf(t).connected, 10_000, 20);
    expect((await t.apply(AB)).result).toBe('applied');
    expect(sessionOf(t).generation).toBe(2);
  });

  it('connection dropped during validation: live file untouched, leftovers swept, then it converges', async () => {
    await reset(A);
    const d = await dropper('drop-check', named.checkconfArgv);
    const t = target({ checkconf: d.argv });
    await d.arm();
    const r = await t.apply(B);
    expect(r).toMatchObject({ result: 'failed', stage: 'validate' });
    expect(r.error).toMatch(/connection lost/);
    expect(await readFile(named.includeFile, 'utf8')).toBe(A);
    const r2 = await t.apply(B);
    expect(r2, r2.error).toMatchObject({ result: 'applied' });
    expect(await named.aaaa('www.example.test')).toEqual([WWW_B]);
    expect(await leftovers()).toEqual([]);
  });

  it('connection dropped during the reload: rolled back over a new connection, the next apply converges', async () => {
    await reset(A);
    const d = await dropper('drop-reload', [...named.rndcArgv, 'reconfig']);
    const t = target({ reload: d.argv });
    await d.arm();
    const r = await t.apply(B);
    expect(r).toMatchObject({ result: 'failed', stage: 'reload', rolled_back: true });
    expect(await readFile(named.includeFile, 'utf8')).toBe(A);
    expect(await named.aaaa('www.example.test')).toEqual([WWW_A]);
    expect((await t.apply(B)).result).toBe('applied');
    expect(await named.aaaa('www.example.test')).toEqual([WWW_B]);
  });

  it('connection cut at any byte: the live file is always the old or the new text, never half of one', async () => {
    await reset(A);
    const proxy = await startProxy(sshd.port);
    const kh = await proxyKnownHosts(proxy.port);
    try {
      const t = target({}, { port: proxy.port, known_hosts: kh });
      // Measure one full apply's traffic; then cut attempts at points spread over it, and densely
      // over its last 500 bytes (rename, reload, rollback).
      expect((await t.apply(B)).result).toBe('applied');
      const total = proxy.bytes;
      await t.close();
      const outcomes: string[] = [];
      const cuts = [
        ...Array.from({ length: 8 }, (_, i) => Math.floor((total * (i + 1)) / 9)),
        ...Array.from({ length: 9 }, (_, i) => total - 480 + 55 * i),
      ];
      for (const cut of cuts) {
        const before = await readFile(named.includeFile, 'utf8');
        const next = before === A ? B : A;
        proxy.cutAfter(cut);
        const u = target({}, { port: proxy.port, known_hosts: kh });
        const r = await u.apply(next);
        const live = await readFile(named.includeFile, 'utf8');
        expect([A, B]).toContain(live);
        if (r.result === 'applied') expect(live).toBe(next);
        outcomes.push(`${cut}:${r.result}${r.stage ? `/${r.stage}` : ''}${r.rolled_back ? '/rolled-back' : ''}`);
        // The retry converges, and named really serves it: also when the cut hid whether the rename
        // happened. The retry is the daemon's next attempt once the link is back: disarm the cut
        // (if it came after the whole apply, u's kept-alive connection would still carry it).
        proxy.cutAfter(Infinity);
        const r2 = await u.apply(next);
        expect(r2.result, `${outcomes.at(-1)} then ${r2.error}`).not.toBe('failed');
        expect(await named.aaaa('www.example.test'), outcomes.at(-1)).toEqual([next === A ? WWW_A : WWW_B]);
        expect(await leftovers()).toEqual([]);
        await u.close();
      }
      proxy.cutAfter(Infinity);
      const final = target({}, { port: proxy.port, known_hosts: kh });
      const r = await final.apply(AB);
      expect(r.result, outcomes.join(' ')).toBe('applied');
      expect(await named.aaaa('www.example.test')).toEqual([WWW_A, WWW_B]);
      // every stage was hit, and a cut during the reload was rolled back over a new connection
      for (const stage of ['connect', 'write', 'validate', 'reload/rolled-back'])
        expect(outcomes.join(' ')).toContain(`failed/${stage}`);
      expect(await leftovers()).toEqual([]);
      expect(await shadowDirs()).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 180_000); // 17 cuts, each a new connection; 15 s idle, 19 s loaded

  it('a stalled connection: SFTP operations time out, the next apply reconnects', async () => {
    await reset(A);
    const proxy = await startProxy(sshd.port);
    const kh = await proxyKnownHosts(proxy.port);
    try {
      const t = target({}, { port: proxy.port, known_hosts: kh, timeout: 800 });
      expect((await t.apply(B)).result).toBe('applied');
      proxy.stall(true);
      const start = Date.now();
      const r = await t.apply(A);
      expect(r.result).toBe('failed');
      expect(r.error).toMatch(/timed out after 800 ms/);
      expect(Date.now() - start).toBeLessThan(4_000);
      expect(await readFile(named.includeFile, 'utf8')).toBe(B);
      proxy.stall(false);
      const r2 = await t.apply(A);
      expect(r2, r2.error).toMatchObject({ result: 'applied' });
      expect(sessionOf(t).generation).toBe(2);
    } finally {
      await proxy.close();
    }
  });
});

describe('SSH host: targets test', () => {
  it('reports every check ok for a good target, and changes nothing', async () => {
    await reset(A);
    const before = await readFile(named.includeFile, 'utf8');
    const checks = await target().test();
    expect(checks.map((c) => [c.check, c.ok])).toEqual([
      ['connect', true],
      ['sftp', true],
      ['output', true],
      ['include', true],
      ['checkconf', true],
      ['reload', true],
    ]);
    expect(checks[0]!.detail).toContain(sshKeygenFingerprint(sshd.hostPub));
    expect(checks[5]!.detail).toMatch(/status/);
    expect(await readFile(named.includeFile, 'utf8')).toBe(before);
  });

  it('reports each failing check', async () => {
    const checks = await target({
      output: path.join(named.dir, 'other.conf'),
      checkconf: ['named-checkconf', path.join(work, 'missing.conf')],
      reload: ['no-such-reload-command'],
    }).test();
    const byName = Object.fromEntries(checks.map((c) => [c.check, c]));
    expect(byName.connect!.ok).toBe(true);
    expect(byName.include!.ok).toBe(false);
    expect(byName.checkconf!.ok).toBe(false);
    expect(byName.reload).toMatchObject({ ok: false });
    const kh = path.join(work, 'kh-other');
    const otherPub = await makeKeyPair(path.join(work, 'other_host_key'));
    await writeFile(kh, `[127.0.0.1]:${sshd.port} ${otherPub}\n`);
    const bad = await target({}, { known_hosts: kh }).test();
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ check: 'connect', ok: false });
    expect(bad[0]!.detail).toMatch(/HOST KEY MISMATCH/);
  });
});

interface Proxy {
  port: number;
  /** bytes relayed (both directions) over the latest connection */
  readonly bytes: number;
  /** drop the next connection once it relayed this many bytes (later ones are not cut);
   *  Infinity disarms it, also on the latest connection if it is still open */
  cutAfter(n: number): void;
  /** stop relaying (a black hole) or resume */
  stall(on: boolean): void;
  close(): Promise<void>;
}

/** known_hosts pinning sshd's key for the proxy's port too */
async function proxyKnownHosts(port: number): Promise<string> {
  const kh = path.join(work, `kh-proxy-${port}`);
  await writeFile(kh, `[127.0.0.1]:${port} ${sshd.hostPub}\n`);
  return kh;
}

/** A loopback TCP relay to sshd that can cut a connection after N bytes or stall them all. */
function startProxy(upstreamPort: number): Promise<Proxy> {
  let last = { bytes: 0, cutAt: Infinity };
  let limit = Infinity;
  let armed = false;
  let stalled = false;
  const sockets = new Set<net.Socket>();
  const pending: Array<() => void> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort });
    const conn = { bytes: 0, cutAt: armed ? limit : Infinity };
    last = conn;
    armed = false;
    sockets.add(client);
    sockets.add(upstream);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    const relay = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk: Buffer) => {
        const send = () => {
          if (conn.bytes + chunk.length >= conn.cutAt) {
            const room = Math.max(0, conn.cutAt - conn.bytes);
            conn.bytes += room;
            if (room > 0) to.write(chunk.subarray(0, room));
            kill();
            return;
          }
          conn.bytes += chunk.length;
          to.write(chunk);
        };
        if (stalled) pending.push(send);
        else send();
      });
    };
    relay(client, upstream);
    relay(upstream, client);
    for (const s of [client, upstream]) {
      s.on('error', kill);
      s.on('close', () => {
        sockets.delete(s);
        kill();
      });
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        get bytes() {
          return last.bytes;
        },
        cutAfter(n) {
          limit = n;
          armed = Number.isFinite(n);
          if (!armed) last.cutAt = Infinity;
        },
        stall(on) {
          stalled = on;
          if (!on) pending.splice(0).forEach((f) => f());
        },
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
