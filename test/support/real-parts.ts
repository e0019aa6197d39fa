// Tests whose real part (chattr, systemd-notify, namespaces, the lab) may be missing on a machine:
// there they are skipped, with the reason in the test's name; under NH_REQUIRE_E2E=1 (.ci/run sets
// it) they fail instead, so CI never passes by skipping them quietly.
import { it } from 'vitest';

type TestFn = () => Promise<void> | void;
export type RealTest = (name: string, fn: TestFn, timeout?: number) => void;

/** Whether the real parts are required here (CI). */
export const realPartsRequired = (): boolean => process.env.NH_REQUIRE_E2E === '1';

/**
 * `it` when `missing` is null; else a test that is skipped, or that fails under NH_REQUIRE_E2E=1,
 * saying what is missing.
 */
export function itWith(missing: string | null): RealTest {
  if (missing === null) return (name, fn, timeout) => it(name, fn, timeout);
  if (realPartsRequired())
    return (name) =>
      it(name, () => {
        throw new Error(`cannot run here: ${missing} (NH_REQUIRE_E2E=1 requires it)`);
      });
  return (name, fn, timeout) => it.skip(`${name} (skipped: ${missing})`, fn, timeout);
}
