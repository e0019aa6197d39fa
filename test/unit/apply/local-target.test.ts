// LocalBindTarget against real files and commands (no named: checkconf is `true` on the live file).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBindTarget, type BindSettings } from '../../../src/apply/local-target.js';

// An immutable directory makes the rollback's temp file impossible, even for root (ext4 here).
function chattrWorks(): boolean {
  const d = mkdtempSync(path.join(os.tmpdir(), 'nh-chattr-'));
  try {
    execFileSync('chattr', ['+i', d], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', d], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const frozen: string[] = [];
afterEach(() => {
  for (const d of frozen.splice(0)) execFileSync('chattr', ['-i', d]);
});

describe('LocalBindTarget', () => {
  it.skipIf(!chattrWorks())(
    'reloads on the next apply when a failed reload could not be rolled back, though the text is unchanged',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
      mkdirSync(path.join(dir, 'live'));
      const out = path.join(dir, 'live', 'dns64.conf');
      writeFileSync(out, 'old;\n');
      const calls = path.join(dir, 'reload-calls');
      writeFileSync(calls, '');
      // The first reload fails and freezes the output's directory, so the rollback fails too.
      const script = `echo x >> ${calls}; n=$(wc -l < ${calls}); if [ "$n" = 1 ]; then chattr +i ${path.dirname(out)}; exit 1; fi`;
      const bind = {
        mode: 'include',
        output: out,
        checkconf: ['true', out],
        reload: ['sh', '-c', script],
        command_timeout: 5000,
      } as unknown as BindSettings;
      const target = new LocalBindTarget(bind);
      const first = await target.apply('new;\n');
      frozen.push(path.dirname(out));
      expect(first).toMatchObject({ result: 'failed', stage: 'reload', rolled_back: false });
      expect(readFileSync(out, 'utf8')).toBe('new;\n'); // live, but BIND never loaded it
      execFileSync('chattr', ['-i', frozen.pop()!]);

      const second = await target.apply('new;\n');
      expect(second.result).toBe('applied');
      expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(2);
      expect((await target.apply('new;\n')).result).toBe('unchanged');
      expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(2);
    },
  );

  it('puts the previous file back when the reload fails', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-local-'));
    const out = path.join(dir, 'dns64.conf');
    writeFileSync(out, 'old;\n');
    const bind = {
      mode: 'include',
      output: out,
      checkconf: ['true', out],
      reload: ['false'],
      command_timeout: 5000,
    } as unknown as BindSettings;
    const r = await new LocalBindTarget(bind).apply('new;\n');
    expect(r).toMatchObject({ result: 'failed', stage: 'reload', rolled_back: true });
    expect(readFileSync(out, 'utf8')).toBe('old;\n');
  });
});
