// itWith: a test whose real part is missing is skipped, and fails under NH_REQUIRE_E2E=1.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HELPER = fileURLToPath(new URL('../../support/real-parts.ts', import.meta.url));

/** Runs one test file that uses itWith with `missing`, in a vitest of its own. */
async function runWith(missing: string | null, env: Record<string, string>) {
  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  const dir = mkdtempSync(path.join(ROOT, 'test-artifacts', 'real-parts-'));
  const file = path.join(dir, 'probe.test.ts');
  writeFileSync(path.join(dir, 'vitest.config.mjs'), "export default { test: { include: ['probe.test.ts'] } };\n");
  writeFileSync(
    file,
    `import { itWith } from ${JSON.stringify(HELPER)};\n` +
      `itWith(${JSON.stringify(missing)})('needs a real part', () => {});\n`,
  );
  const r = await execa('npx', ['vitest', 'run', '--root', dir], {
    cwd: ROOT,
    reject: false,
    env: { ...env, CI: 'true' },
    extendEnv: true,
    timeout: 60_000,
  });
  return { code: r.exitCode, out: `${r.stdout}\n${r.stderr}` };
}

describe('itWith', () => {
  it('skips a test whose real part is missing, and says why', async () => {
    const r = await runWith('chattr +i does not work', { NH_REQUIRE_E2E: '' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/1 skipped/);
  });

  it('fails it under NH_REQUIRE_E2E=1, naming what is missing', async () => {
    const r = await runWith('chattr +i does not work', { NH_REQUIRE_E2E: '1' });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('cannot run here: chattr +i does not work (NH_REQUIRE_E2E=1 requires it)');
  });

  it('runs it when nothing is missing', async () => {
    const r = await runWith(null, { NH_REQUIRE_E2E: '1' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/1 passed/);
  });
});
