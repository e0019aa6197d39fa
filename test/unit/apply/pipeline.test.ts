// The apply pipeline on this machine against real files and commands (named-checkconf where it is
// needed; the suite against a real named, locally and over SSH, is test/integration/apply/pipeline).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { BindTarget } from '../../../src/apply/pipeline.js';
import type { BindSettings } from '../../../src/apply/target.js';
import { LocalHost } from '../../../src/apply/local/host.js';
import { BLOCK_BEGIN } from '../../../src/apply/bind/named-conf.js';
import { chattrMissing } from '../../support/chattr.js';
import { itWith } from '../../support/real-parts.js';

const frozen: string[] = [];
afterEach(() => {
  for (const d of frozen.splice(0)) execFileSync('chattr', ['-i', d]);
});

function local(bind: Partial<BindSettings> & { output: string }, host = new LocalHost()): BindTarget {
  return new BindTarget('local', host, {
    mode: 'include',
    checkconf: ['true', bind.output],
    reload: ['true'],
    command_timeout: 5000,
    ...bind,
  });
}

/** A reload command that counts its calls in a file. */
function counter(dir: string, then = 'exit 0'): { argv: string[]; calls(): number } {
  const calls = path.join(dir, 'reload-calls');
  writeFileSync(calls, '');
  return {
    argv: ['sh', '-c', `echo x >> ${calls}; ${then}`],
    calls: () => readFileSync(calls, 'utf8').split('\n').filter(Boolean).length,
  };
}

describe('apply pipeline on this host', () => {
  itWith(chattrMissing())(
    'reloads on the next apply when a failed reload could not be rolled back, though the text is unchanged',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
      mkdirSync(path.join(dir, 'live'));
      const out = path.join(dir, 'live', 'dns64.conf');
      writeFileSync(out, 'old;\n');
      // The first reload fails and freezes the output's directory, so the rollback fails too.
      const reload = counter(
        dir,
        `n=$(wc -l < ${dir}/reload-calls); if [ "$n" = 1 ]; then chattr +i ${path.dirname(out)}; exit 1; fi`,
      );
      const target = local({ output: out, reload: reload.argv });
      const first = await target.apply('new;\n');
      frozen.push(path.dirname(out));
      expect(first).toMatchObject({ result: 'failed', stage: 'reload', rolled_back: false });
      expect(readFileSync(out, 'utf8')).toBe('new;\n'); // live, but BIND never loaded it
      execFileSync('chattr', ['-i', frozen.pop()!]);

      const second = await target.apply('new;\n');
      expect(second.result).toBe('applied');
      expect(reload.calls()).toBe(2);
      expect((await target.apply('new;\n')).result).toBe('unchanged');
      expect(reload.calls()).toBe(2);
    },
  );

  it('puts the previous file back when the reload fails', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
    const out = path.join(dir, 'dns64.conf');
    writeFileSync(out, 'old;\n');
    const r = await local({ output: out, reload: ['false'] }).apply('new;\n');
    expect(r).toMatchObject({ result: 'failed', stage: 'reload', rolled_back: true });
    expect(readFileSync(out, 'utf8')).toBe('old;\n');
  });

  it('named not running (rndc: connection refused): the validated file stays for its start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
    const out = path.join(dir, 'dns64.conf');
    writeFileSync(out, 'old;\n');
    const down = ['sh', '-c', 'echo "rndc: connect failed: 127.0.0.1#953: connection refused" >&2; exit 1'];
    const target = local({ output: out, reload: down });
    const r = await target.apply('new;\n');
    expect(r).toMatchObject({ result: 'failed', stage: 'reload', rolled_back: false });
    expect(r.error).toMatch(/BIND is not running: the validated file stays in place for its start/);
    expect(readFileSync(out, 'utf8')).toBe('new;\n');
    expect(target.reloadPending).toBe(true);
  });

  it('a repair of a removed file writes it back without a reload; an edited one is reloaded', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
    const out = path.join(dir, 'dns64.conf');
    const reload = counter(dir);
    const target = local({ output: out, reload: reload.argv });
    expect(await target.apply('new;\n', { repair: true })).toMatchObject({ result: 'applied' });
    expect([readFileSync(out, 'utf8'), reload.calls()]).toEqual(['new;\n', 0]);
    writeFileSync(out, 'edited;\n');
    expect(await target.apply('new;\n', { repair: true })).toMatchObject({ result: 'applied' });
    expect([readFileSync(out, 'utf8'), reload.calls()]).toEqual(['new;\n', 1]);
  });

  it('the directory fsync fails after the rename: BIND is still reloaded, and it is said', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
    const out = path.join(dir, 'dns64.conf');
    writeFileSync(out, 'old;\n');
    const reload = counter(dir);
    class FailingSync extends LocalHost {
      failures = 1;
      override syncDir(d: string): Promise<void> {
        if (this.failures-- > 0) return Promise.reject(new Error('EIO: i/o error, fsync'));
        return super.syncDir(d);
      }
    }
    const target = local({ output: out, reload: reload.argv }, new FailingSync());
    const r = await target.apply('new;\n');
    expect(readFileSync(out, 'utf8')).toBe('new;\n');
    expect(reload.calls()).toBe(1);
    expect(r.result).toBe('applied');
    expect(r.warnings?.join()).toMatch(/fsync of the directory failed: EIO/);
    expect((await target.apply('new;\n')).result).toBe('unchanged');
  });

  it('block mode keeps every byte outside the block, also a Latin-1 one, and also on rollback', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
    const out = path.join(dir, 'named.conf.options');
    const original = Buffer.concat([
      Buffer.from('// caf'),
      Buffer.from([0xe9]), // Latin-1 e-acute: not valid UTF-8
      Buffer.from('\noptions {\n\tdirectory "/tmp";\n};\n'),
    ]);
    writeFileSync(out, original);
    const r = await local({ mode: 'block', output: out }).apply('dns64 2001:db8:64::/96 { };\n');
    expect(r.result).toBe('applied');
    const now = readFileSync(out);
    expect(now.subarray(0, 7)).toEqual(original.subarray(0, 7));
    expect(now.toString('latin1')).toContain(BLOCK_BEGIN);
    const back = await local({ mode: 'block', output: out, reload: ['false'] }).apply('dns64 2001:db8:65::/96 { };\n');
    expect(back).toMatchObject({ result: 'failed', rolled_back: true });
    expect(readFileSync(out)).toEqual(now);
  });

  it("validation errors name the operator's files, not the shadow copies", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
    const conf = path.join(dir, 'named.conf');
    writeFileSync(conf, `include "${dir}/named.conf.options";\n`);
    writeFileSync(
      path.join(dir, 'named.conf.options'),
      `options {\n\tdirectory "${dir}";\n\tinclude "dns64.conf";\n};\n`,
    );
    const out = path.join(dir, 'dns64.conf');
    writeFileSync(out, '');
    const r = await local({ output: out, checkconf: ['named-checkconf', conf] }).apply(
      'dns64 2001:db8:64::/96 { bogus yes; };\n',
    );
    expect(r).toMatchObject({ result: 'failed', stage: 'validate' });
    expect(r.error).toContain(`named-checkconf ${conf}: ${out}:1: unknown option 'bogus'`);
    expect(r.error).not.toMatch(/nat64-health-check-|\.nat64-health-/);
  });

  it('keeps owner and group when it may; says so when the system refuses the chown', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
    const out = path.join(dir, 'dns64.conf');
    writeFileSync(out, 'old;\n');
    chownSync(out, 0, 65534); // root:nogroup, as an operator might set root:bind
    chmodSync(out, 0o640);
    const r = await local({ output: out }).apply('new;\n');
    expect([r.result, r.warnings, statSync(out).gid, statSync(out).mode & 0o777]).toEqual([
      'applied',
      undefined,
      65534,
      0o640,
    ]);
    // The unit's system call filter forbids chown; without CAP_CHOWN root gets the same EPERM.
    const script = path.join(dir, 'apply.mts');
    const src = fileURLToPath(new URL('../../../src/apply/', import.meta.url));
    const settings = {
      mode: 'include',
      output: out,
      checkconf: ['true', out],
      reload: ['true'],
      command_timeout: 5000,
    };
    writeFileSync(
      script,
      `import { BindTarget } from '${src}pipeline.js';\nimport { LocalHost } from '${src}local/host.js';\n` +
        `const t = new BindTarget('local', new LocalHost(), ${JSON.stringify(settings)});\n` +
        `console.log(JSON.stringify(await t.apply('newer;\\n')));\n`,
    );
    const child = await execa(
      'setpriv',
      ['--inh-caps=-chown', '--bounding-set=-chown', process.execPath, '--import', 'tsx', script],
      { reject: false },
    );
    expect(child.exitCode, child.stderr).toBe(0);
    const outcome = JSON.parse(child.stdout) as { result: string; warnings?: string[] };
    expect(outcome.result, child.stdout).toBe('applied');
    expect(outcome.warnings?.join()).toMatch(
      new RegExp(
        `${out.replace(/[.]/g, '\\.')}: cannot keep owner 0:65534 \\(chown: EPERM\\); the new file is owned by 0:0`,
      ),
    );
    expect(statSync(out).mode & 0o777).toBe(0o640);
  });

  it('named-checkconf -t: the shadow is checked in the chroot, messages name the files as BIND sees them', async () => {
    const chroot = mkdtempSync(path.join(os.tmpdir(), 'nh-chroot-'));
    mkdirSync(path.join(chroot, 'etc/bind'), { recursive: true });
    mkdirSync(path.join(chroot, 'var/lib/nh'), { recursive: true });
    writeFileSync(
      path.join(chroot, 'etc/bind/named.conf'),
      'options {\n\tdirectory "/var/lib/nh";\n\tinclude "dns64.conf";\n};\n',
    );
    const out = path.join(chroot, 'var/lib/nh/dns64.conf');
    writeFileSync(out, '');
    const target = local({ output: out, checkconf: ['named-checkconf', '-t', chroot, '/etc/bind/named.conf'] });
    const bad = await target.apply('dns64 2001:db8:64::/96 { bogus yes; };\n');
    expect(bad).toMatchObject({ result: 'failed', stage: 'validate' });
    expect(bad.error).toContain("/var/lib/nh/dns64.conf:1: unknown option 'bogus'");
    expect(bad.error).not.toMatch(/nat64-health-check-|\.nat64-health-/);
    expect((await target.apply('dns64 2001:db8:64::/96 { };\n')).result).toBe('applied');
    expect(readFileSync(out, 'utf8')).toBe('dns64 2001:db8:64::/96 { };\n');
  });
});
