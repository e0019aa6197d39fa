// Prometheus' own checker (Debian's `prometheus` package, which `install-deps.sh test` installs):
// `promtool check metrics` reads an exposition on stdin and names what it finds wrong.
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';

/** Why promtool cannot be used here, or null when it can (for itWith). */
export function promtoolMissing(): string | null {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'promtool is not installed (Debian package prometheus)';
  }
}

/** `promtool check metrics` on an exposition: its exit code and what it said. */
export async function checkMetrics(text: string): Promise<{ exitCode: number; said: string }> {
  const r = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
  return { exitCode: r.exitCode ?? -1, said: `${r.stdout}${r.stderr}`.trim() };
}
