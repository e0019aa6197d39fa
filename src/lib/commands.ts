// Runs rndc, named-checkconf and friends from argv arrays: no shell, so nothing is interpolated.
import { execa } from 'execa';

export interface CommandResult {
  ok: boolean;
  /** the command line, for messages */
  command: string;
  output: string;
  ms: number;
}

export async function runCommand(
  argv: string[],
  timeoutMs: number,
  cwd?: string,
  env?: NodeJS.ProcessEnv,
): Promise<CommandResult> {
  const [file, ...args] = argv;
  const start = process.hrtime.bigint();
  const r = await execa(file!, args, { reject: false, timeout: timeoutMs, stdin: 'ignore', all: true, cwd, env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const detail = r.timedOut
    ? `timed out after ${timeoutMs} ms`
    : (r as { code?: string }).code === 'ENOENT'
      ? `${file}: command not found`
      : (r.all ?? '').trim() || (r.failed ? `exit status ${r.exitCode ?? r.signal}` : '');
  return { ok: !r.failed, command: argv.join(' '), output: detail, ms };
}
