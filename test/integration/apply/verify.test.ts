/**
 * Served = decided, against a real named on host loopback: after an apply the runner asks BIND for
 * AAAA ipv4only.arpa and compares the prefixes in the answer with the decided set. The four cases
 * the check exists for: the plain one, a view with its own dns64, an include BIND does not read,
 * and a named that was stopped.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNamed, type NamedInstance } from '../../support/named.js';
import { EVERY_LENGTH } from '../../support/prefixes.js';
import { createLogger } from '../../../src/lib/log.js';
import { BindTarget } from '../../../src/apply/pipeline.js';
import { LocalHost } from '../../../src/apply/local/host.js';
import { TargetRunner } from '../../../src/apply/runner.js';
import { queryServedPrefixes } from '../../../src/apply/verify.js';
import { EXIT, type Io } from '../../../src/cli/common.js';
import { targetsTest } from '../../../src/cli/commands/targets.js';

/** a prefix that drains, beside the active ones of every length */
const DRAINING = '2001:db8:d::/96';
const render = (active: string[], draining: string[] = []) =>
  active.map((p) => `dns64 ${p} { clients { any; }; };\n`).join('') +
  draining.map((p) => `dns64 ${p} { clients { none; }; };\n`).join('');

let named: NamedInstance;
const logs: string[] = [];

beforeAll(async () => {
  named = await startNamed({ listen: '127.0.0.1', mode: 'include' });
});
afterAll(async () => named?.stop());

function runner(n: NamedInstance, over: { output?: string; checkconf?: string[] } = {}) {
  const target = new BindTarget(
    'local',
    new LocalHost(),
    {
      mode: 'include',
      output: over.output ?? n.includeFile,
      checkconf: over.checkconf ?? n.checkconfArgv,
      reload: [...n.rndcArgv, 'reconfig'],
      command_timeout: 10_000,
    },
    { verify: { server: n.listen, port: n.port, timeout: 1000, interval: 60_000 } },
  );
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  // the runner's clock: `verifyInterval()` moves it on by the verification interval (the check is due)
  let skew = 0;
  const r = new TargetRunner(target, 'k', 'o', {
    log,
    now: () => Date.now() + skew,
    dryRun: false,
    recorded: () => undefined,
    fields: () => ({}),
  });
  const verifyInterval = () => (skew += 60_000);
  return { target, r, verifyInterval };
}

describe('served = decided', () => {
  it('recovers the prefixes of every RFC 6052 length from 192.0.0.170/171; a draining one is absent', async () => {
    const { r } = runner(named);
    await r.offer(render(EVERY_LENGTH, [DRAINING]), EVERY_LENGTH, 'test');
    expect(r.lastApply).toMatchObject({ result: 'applied' });
    expect(r.verification).toMatchObject({ ok: true, served: [...EVERY_LENGTH].sort() });
    expect(await queryServedPrefixes({ server: named.listen, port: named.port, timeout: 1000 })).toEqual(
      [...EVERY_LENGTH].sort(),
    );
    // BIND's own answer, for the record: a /64 embeds 192.0.0.170 around the u-octet
    expect(await named.dig(['+short', 'AAAA', 'ipv4only.arpa'])).toContain('2001:db8:64:64:c0:0:aa00:0');
  });

  it("a view with its own dns64: BIND serves the view's prefixes; one re-apply, then an error", async () => {
    const viewNamed = await startNamed({ listen: '127.0.0.1', mode: 'include' });
    try {
      const conf = await readFile(viewNamed.namedConf, 'utf8');
      const at = conf.indexOf('zone ');
      await writeFile(
        viewNamed.namedConf,
        [
          `${conf.slice(0, at)}view "all" {`,
          '\tmatch-clients { any; };',
          '\tdns64 2001:db8:99::/96 { clients { any; }; };',
          `${conf.slice(at)}};`,
          '',
        ].join('\n'),
      );
      await viewNamed.reconfig();
      const { r } = runner(viewNamed);
      const before = logs.length;
      await r.offer(render(['2001:db8:96:96::/96']), ['2001:db8:96:96::/96'], 'test');
      expect(r.verification).toMatchObject({ ok: false, served: ['2001:db8:99::/96'] });
      expect(r.verification!.detail).toMatch(/BIND serves 2001:db8:99::\/96, not the decided 2001:db8:96:96::\/96/);
      const said = logs.slice(before).join('\n');
      expect(said).toMatch(/applying again with a reload/);
      expect(said).toMatch(/ERROR local: BIND does not serve the decided set/);
      expect(r.lastApply).toMatchObject({ result: 'applied', reason: 'BIND did not serve the decided set' });
    } finally {
      await viewNamed.stop();
    }
  });

  it('an include BIND does not read (checkconf validated another named.conf): caught', async () => {
    // checkconf reads a copy of named.conf that includes the output; the running named never does
    const shadowConf = path.join(named.dir, 'checked.conf');
    const shadowOptions = path.join(named.dir, 'checked.options');
    const output = path.join(named.dir, 'unread.conf');
    await writeFile(
      shadowOptions,
      (await readFile(named.optionsConf, 'utf8')).replace(`include "${named.includeFile}";`, `include "${output}";`),
    );
    await writeFile(shadowConf, (await readFile(named.namedConf, 'utf8')).replace(named.optionsConf, shadowOptions));
    await writeFile(named.includeFile, render(['2001:db8:48::/48']));
    await named.reconfig();
    const { r } = runner(named, { output, checkconf: ['named-checkconf', shadowConf] });
    await r.offer(render(['2001:db8:96:96::/96']), ['2001:db8:96:96::/96'], 'test');
    expect(r.lastApply).toMatchObject({ result: 'applied' });
    expect(r.verification).toMatchObject({ ok: false, served: ['2001:db8:48::/48'], decided: ['2001:db8:96:96::/96'] });
  });

  it('a named that was stopped: no answer is an error, not a match', async () => {
    // its folder outlives it: the include stays as written (no drift to repair), named is just gone
    const folder = await mkdtemp(path.join(os.tmpdir(), 'nh-gone-'));
    const gone = await startNamed({ listen: '127.0.0.1', mode: 'include', dir: folder });
    const { r, target, verifyInterval } = runner(gone);
    // the first apply gives a fresh named its first dns64, so BIND creates and loads the automatic
    // ipv4only.arpa zone after rndc has returned: the runner's settle pauses cover the SERVFAIL
    await r.offer(render(['2001:db8:96:96::/96']), ['2001:db8:96:96::/96'], 'test');
    expect(r.verification, JSON.stringify(r.verification)).toMatchObject({ ok: true });
    await gone.stop();
    const answer = await target.verification!.ask();
    expect(answer.ok).toBe(false);
    expect(!answer.ok && answer.error).toMatch(
      new RegExp(`asking 127\\.0\\.0\\.1:${gone.port} for ipv4only\\.arpa AAAA: .*ECONNREFUSED`),
    );
    // the periodic check finds it (due at once here); with no answer at all, no reload is tried
    const applied = r.lastApply;
    verifyInterval();
    await r.offer(render(['2001:db8:96:96::/96']), ['2001:db8:96:96::/96'], 'test');
    expect(r.verification).toMatchObject({ ok: false, served: null });
    expect(r.verification!.detail).toMatch(/ECONNREFUSED/);
    expect(r.lastApply).toBe(applied);
    await rm(folder, { recursive: true, force: true });
  });

  it('a named that forwards globally has no ipv4only.arpa zone until given one: said so, with the fix', async () => {
    const fwd = await startNamed({ listen: '127.0.0.1', mode: 'include' });
    try {
      const options = await readFile(fwd.optionsConf, 'utf8');
      await writeFile(
        fwd.optionsConf,
        options.replace('notify no;', 'notify no;\n\tforwarders { 127.0.0.2; };\n\tforward only;'),
      );
      await fwd.reconfig();
      const { r, verifyInterval } = runner(fwd);
      await r.offer(render(['2001:db8:96:96::/96']), ['2001:db8:96:96::/96'], 'test');
      expect(r.verification).toMatchObject({ ok: false });
      // The fix the message names, word for word, is what the operator then adds.
      const fix = 'zone "ipv4only.arpa" { type forward; forward first; forwarders { }; };';
      expect(r.verification!.detail).toContain(fix);
      await writeFile(fwd.namedConf, `${await readFile(fwd.namedConf, 'utf8')}${fix}\n`);
      await fwd.reconfig();
      verifyInterval();
      await r.offer(render(['2001:db8:96:96::/96']), ['2001:db8:96:96::/96'], 'test');
      expect(r.verification).toMatchObject({ ok: true, served: ['2001:db8:96:96::/96'] });
    } finally {
      await fwd.stop();
    }
  });

  it('a clients ACL that does not admit the daemon: a mismatch unless asked from an admitted source', async () => {
    const text = 'dns64 2001:db8:96:96::/96 { clients { 127.0.0.2; }; };\n';
    const { r } = runner(named);
    await r.offer(text, ['2001:db8:96:96::/96'], 'test');
    expect(r.verification).toMatchObject({ ok: false, served: [] });
    const ask = (source?: string) =>
      queryServedPrefixes({ server: named.listen, port: named.port, timeout: 1000, ...(source ? { source } : {}) });
    expect(await ask('127.0.0.2')).toEqual(['2001:db8:96:96::/96']);
    expect(await ask()).toEqual([]);
  });
});

describe('`targets test` before the first apply (issue 20)', () => {
  const NOT_YET =
    'holds no dns64 prefix yet (not applied): nothing to compare; verification starts after the first apply';

  /** `targets test` on a config whose only target is this named, as the command runs it */
  async function targetsTestOn(n: NamedInstance): Promise<{ code: number; out: string }> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nh-targets-test-'));
    try {
      const config = path.join(dir, 'config.yaml');
      await writeFile(
        config,
        `prefixes: [2001:db8:64:a::/96]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
state_file: ${path.join(dir, 'state.json')}
bind:
  mode: include
  output: ${n.includeFile}
  checkconf: ${JSON.stringify(n.checkconfArgv)}
  reload: ${JSON.stringify([...n.rndcArgv, 'reconfig'])}
  verify: { server: "${n.listen}", port: ${n.port}, timeout: 500ms }
`,
      );
      const printed: string[] = [];
      const io: Io = { out: (t) => void printed.push(t), color: false };
      const code = await targetsTest({ config, 'log-format': 'text', 'log-level': 'error' }, io);
      return { code, out: printed.join('') };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('an empty include on a resolver that forwards globally: ready, and said why (no forwarding hint)', async () => {
    // without a dns64 block BIND has no ipv4only.arpa zone whatever its forwarding: nothing to
    // compare yet (this test named answers NXDOMAIN from its fake root; a real one may SERVFAIL)
    const fresh = await startNamed({ listen: '127.0.0.1', mode: 'include' });
    try {
      const options = await readFile(fresh.optionsConf, 'utf8');
      await writeFile(
        fresh.optionsConf,
        options.replace('notify no;', 'notify no;\n\tforwarders { 127.0.0.2; };\n\tforward only;'),
      );
      await fresh.reconfig();
      expect(await readFile(fresh.includeFile, 'utf8')).toBe('');
      const before = await targetsTestOn(fresh);
      expect(before.code, before.out).toBe(EXIT.ok);
      expect(before.out).toContain(`  ok    verify     ${fresh.includeFile} ${NOT_YET}\n`);
      expect(before.out).not.toContain('forwards globally');
      expect(await readFile(fresh.includeFile, 'utf8')).toBe(''); // changed nothing
      // once a prefix is applied the check compares: this named forwards globally, so it has no
      // ipv4only.arpa zone, and that now is the cause, with the fix
      await writeFile(fresh.includeFile, render(['2001:db8:64:a::/96']));
      await fresh.reconfig();
      const after = await targetsTestOn(fresh);
      expect(after.code).toBe(EXIT.none);
      expect(after.out).toMatch(/FAIL {2}verify .*forwards globally/);
    } finally {
      await fresh.stop();
    }
  });

  it('an empty include on a resolver that answers NXDOMAIN: ready too; after an apply it compares', async () => {
    const fresh = await startNamed({ listen: '127.0.0.1', mode: 'include' });
    try {
      const before = await targetsTestOn(fresh);
      expect(before.code, before.out).toBe(EXIT.ok);
      expect(before.out).toContain(`${fresh.includeFile} ${NOT_YET}\n`);
      await writeFile(fresh.includeFile, render(['2001:db8:64:a::/96']));
      await fresh.reconfig();
      const after = await targetsTestOn(fresh);
      expect(after.code, after.out).toBe(EXIT.ok);
      expect(after.out).toContain('verify     BIND serves the decided set: 2001:db8:64:a::/96\n');
    } finally {
      await fresh.stop();
    }
  });

  it('block mode with no managed block yet: the same', async () => {
    const fresh = await startNamed({ listen: '127.0.0.1', mode: 'block' });
    try {
      const t = new BindTarget(
        'local',
        new LocalHost(),
        {
          mode: 'block',
          output: fresh.optionsConf,
          checkconf: fresh.checkconfArgv,
          reload: [...fresh.rndcArgv, 'reconfig'],
          command_timeout: 10_000,
        },
        { verify: { server: fresh.listen, port: fresh.port, timeout: 500, interval: 60_000 } },
      );
      const verify = (await t.test()).find((c) => c.check === 'verify');
      expect(verify).toEqual({
        check: 'verify',
        ok: true,
        detail: `the managed block of ${fresh.optionsConf} ${NOT_YET}`,
      });
      await t.close();
    } finally {
      await fresh.stop();
    }
  });
});
