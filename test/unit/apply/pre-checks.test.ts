// `targets test` on this host: what it says of a target it cannot change.
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { LocalHost } from '../../../src/apply/local/host.js';
import { BindTarget } from '../../../src/apply/pipeline.js';
import { beforeFirstApply, comparePoolShare, reloadProbe } from '../../../src/apply/pre-checks.js';
import { askSettled } from '../../../src/apply/verify.js';

describe('reloadProbe', () => {
  it('rndc reconfig becomes rndc status; anything else is only looked up', () => {
    expect(reloadProbe(['rndc', '-s', '::1', 'reconfig'])).toEqual({
      argv: ['rndc', '-s', '::1', 'status'],
      describe: 'rndc -s ::1 status: named answers on its control channel',
    });
    expect(reloadProbe(['systemctl', 'reload', 'named']).argv).toEqual([
      'sh',
      '-c',
      'command -v "$1"',
      'sh',
      'systemctl',
    ]);
  });
});

describe('preChecks through BindTarget.test()', () => {
  it('a writable output, checkconf and a runnable reload pass; a missing block-mode file does not', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-prechecks-'));
    const output = path.join(dir, 'dns64.conf');
    const settings = { output, checkconf: ['true', output], reload: ['true'], command_timeout: 5000 };
    const include = new BindTarget('local', new LocalHost(), { mode: 'include', ...settings });
    expect(await include.test()).toEqual([
      { check: 'output', ok: true, detail: `${output}: directory writable (file not there yet)` },
      { check: 'checkconf', ok: true, detail: `true ${output}: live configuration passes` },
      { check: 'reload', ok: true, detail: 'true is installed (not run: it would reload)' },
    ]);
    const block = new BindTarget('local', new LocalHost(), { mode: 'block', ...settings });
    expect((await block.test())[0]).toEqual({
      check: 'output',
      ok: false,
      detail: `${output} does not exist (block mode edits an existing file)`,
    });
    writeFileSync(output, '');
    expect((await block.test())[0]).toMatchObject({ check: 'output', ok: true });
  });
});

describe('the verify check before the first apply (issue 20)', () => {
  const NOT_YET =
    'holds no dns64 prefix yet (not applied): nothing to compare; verification starts after the first apply';

  it('is ok whatever BIND answers, and says what BIND serves if it serves something', () => {
    const error = 'BIND answered ipv4only.arpa with SERVFAIL (BIND has no ipv4only.arpa zone of its own when ...)';
    expect(beforeFirstApply('/etc/bind/dns64.conf', 'include', { ok: false, error })).toEqual({
      ok: true,
      served: null,
      detail: `/etc/bind/dns64.conf ${NOT_YET}`,
    });
    expect(beforeFirstApply('/o', 'block', { ok: true, prefixes: [] }).detail).toBe(
      `the managed block of /o ${NOT_YET}`,
    );
    const other = beforeFirstApply('/o', 'include', { ok: true, prefixes: ['64:ff9b::/96'] });
    expect(other).toMatchObject({ ok: true, served: ['64:ff9b::/96'] });
    expect(other.detail).toContain('BIND serves 64:ff9b::/96 now (a dns64 outside /o');
  });

  it('an empty include and a BIND that does not answer the question: not a failure (was "not ready")', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-prechecks-'));
    const output = path.join(dir, 'dns64.conf');
    writeFileSync(output, '');
    const settings = { output, checkconf: ['true'], reload: ['true'], command_timeout: 5000 };
    // nothing listens on port 9 of loopback: the question gets no answer
    const verify = { server: '127.0.0.1', port: 9, timeout: 100, interval: 60_000 };
    const t = new BindTarget('local', new LocalHost(), { mode: 'include', ...settings }, { verify });
    const checks = await t.test();
    expect(checks.find((c) => c.check === 'verify')).toEqual({
      check: 'verify',
      ok: true,
      detail: `${output} ${NOT_YET}`,
    });
    writeFileSync(output, 'dns64 64:ff9b::/96 { clients { any; }; };\n');
    expect((await t.test()).find((c) => c.check === 'verify')).toMatchObject({ ok: false });
    await t.close();
  });
});

describe('the verify check with client pools (issue 21)', () => {
  const FILE = ['2001:db8:64:a::/96', '2001:db8:64:b::/96'];

  it("each asker must get some of the file's prefixes and none other; what is checked is said", () => {
    expect(comparePoolShare(FILE, { ok: true, prefixes: [FILE[1]!] })).toEqual({
      ok: true,
      served: [FILE[1]],
      detail:
        "BIND serves 2001:db8:64:b::/96, of the file's 2001:db8:64:a::/96, 2001:db8:64:b::/96 (whether that is" +
        " this pool's decided set, the daemon's verification checks)",
    });
    const extra = comparePoolShare(FILE, { ok: true, prefixes: ['2001:db8:64:a::/96', '64:ff9b::/96'] });
    expect(extra).toMatchObject({ ok: false, served: ['2001:db8:64:a::/96', '64:ff9b::/96'] });
    expect(extra.detail).toContain('the file does not serve 64:ff9b::/96');
    const none = comparePoolShare(FILE, { ok: true, prefixes: [] });
    expect(none).toMatchObject({ ok: false, served: [] });
    expect(none.detail).toContain('is the source a client of this pool');
    expect(comparePoolShare(FILE, { ok: false, error: 'no answer' })).toEqual({
      ok: false,
      served: null,
      detail: 'no answer',
    });
  });

  it('asks as the default pool and as each pool with a source, one check each naming the pool', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-prechecks-'));
    const output = path.join(dir, 'dns64.conf');
    writeFileSync(output, 'dns64 64:ff9b::/96 { clients { any; }; };\n');
    const settings = { output, checkconf: ['true'], reload: ['true'], command_timeout: 5000 };
    // nothing listens on port 9 of loopback: no pool gets an answer, and each says so
    const verify = {
      server: '127.0.0.1',
      port: 9,
      timeout: 100,
      interval: 60_000,
      pools: [{ name: 'site-a', source: '127.0.0.1' }],
    };
    const t = new BindTarget('local', new LocalHost(), { mode: 'include', ...settings }, { verify });
    const checks = (await t.test()).filter((c) => c.check === 'verify');
    expect(checks.map((c) => [c.ok, c.detail.replace(/\): .*/, ')')])).toEqual([
      [false, 'pool default (asked without verify.source)'],
      [false, 'pool site-a (asked from 127.0.0.1)'],
    ]);
    // before the first apply there is nothing to compare, for any pool
    writeFileSync(output, '');
    expect((await t.test()).filter((c) => c.check === 'verify').map((c) => c.ok)).toEqual([true, true]);
    await t.close();
  });
});

describe('the verify check right after a reload', () => {
  /**
   * A resolver that answers ipv4only.arpa with SERVFAIL `servfails` times, then with the well-known
   * addresses under `prefix96` (a /96, as text ending in ::), as BIND 9.18 does while it loads the
   * zone a reload brought.
   */
  async function settlingResolver(servfails: number, prefix96: string) {
    const sock = dgram.createSocket('udp4');
    let asked = 0;
    sock.on('message', (msg, from) => {
      const q = dnsPacket.decode(msg);
      const ok = ++asked > servfails;
      const answers = ok
        ? ['c000:aa', 'c000:ab'].map((tail) => ({
            type: 'AAAA' as const,
            name: 'ipv4only.arpa',
            ttl: 60,
            data: `${prefix96}${tail}`,
          }))
        : [];
      const rcode = ok ? 0 : 2; // NOERROR, SERVFAIL
      const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode;
      sock.send(
        dnsPacket.encode({ type: 'response', id: q.id, flags, questions: q.questions, answers }),
        from.port,
        from.address,
      );
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    return { port: sock.address().port, asked: () => asked, close: () => sock.close() };
  }

  it('a SERVFAIL is asked again, as the daemon does: targets test run just after an apply passes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-prechecks-'));
    const output = path.join(dir, 'dns64.conf');
    writeFileSync(output, 'dns64 2001:db8:64:a::/96 { clients { any; }; };\n');
    const settings = { output, checkconf: ['true'], reload: ['true'], command_timeout: 5000 };
    const resolver = await settlingResolver(2, '2001:db8:64:a::');
    try {
      const verify = { server: '127.0.0.1', port: resolver.port, timeout: 1000, interval: 60_000 };
      const t = new BindTarget('local', new LocalHost(), { mode: 'include', ...settings }, { verify });
      expect((await t.test()).find((c) => c.check === 'verify')).toEqual({
        check: 'verify',
        ok: true,
        detail: 'BIND serves the decided set: 2001:db8:64:a::/96',
      });
      expect(resolver.asked()).toBe(3);
      await t.close();
    } finally {
      resolver.close();
    }
  });

  it('a resolver that never answers is "unanswered": asked once (three tries), not again after pauses', async () => {
    const silent = dgram.createSocket('udp4');
    let asked = 0;
    silent.on('message', () => asked++);
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const verify = { server: '127.0.0.1', port: silent.address().port, timeout: 100, interval: 60_000 };
      const settings = {
        output: '/nonexistent/dns64.conf',
        checkconf: ['true'],
        reload: ['true'],
        command_timeout: 5000,
      };
      const t = new BindTarget('local', new LocalHost(), { mode: 'include', ...settings }, { verify });
      const answer = await t.verification!.ask();
      expect(answer).toMatchObject({ ok: false, unanswered: true });
      expect(asked).toBe(3);
      expect(await askSettled(() => t.verification!.ask())).toMatchObject({ ok: false, unanswered: true });
      expect(asked).toBe(6);
      await t.close();
    } finally {
      silent.close();
    }
  });
});
