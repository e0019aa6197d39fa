// `targets test`: what can be checked on a target without changing it - the host's own checks
// (SSH: connect, SFTP), that the output can be written, that named.conf includes it, that
// checkconf passes on the live configuration, that the reload command can run, and that BIND
// serves what the live file says. Before the first apply the live file holds no dns64 prefix and
// BIND has no ipv4only.arpa zone (it comes with a dns64 block): there is nothing to compare yet, so
// that is not a failure; the check says so, and what BIND serves if it serves something already.
import path from 'node:path';
import { onHost, type CheckconfArgs } from '../config/checkconf-args.js';
import { checkconfCwd, notIncludedMessage } from './bind/include-chain.js';
import { managedBlockOf, servingDns64Prefixes } from './bind/named-conf.js';
import { commandDetail, type ExecResult, type Host } from './host.js';
import type { ApplyTarget, BindSettings, TargetCheck } from './target.js';
import { compareServed, type Verdict } from './verify.js';

export interface PreCheckTarget {
  host: Host;
  bind: BindSettings;
  args: CheckconfArgs;
  /** named.conf as a path on the host */
  root: string;
  run(argv: string[], cwd?: string): Promise<ExecResult>;
  includes(file: string): Promise<boolean>;
  verification: ApplyTarget['verification'];
  /** an error's message without the target's name in front */
  message(err: unknown): string;
}

export async function preChecks(t: PreCheckTarget): Promise<TargetCheck[]> {
  const { host, bind } = t;
  const checks: TargetCheck[] = host.checks ? await host.checks() : [];
  if (checks.some((c) => !c.ok && c.check === 'connect')) return checks;
  const add = (check: string, ok: boolean, text: string) => checks.push({ check, ok, detail: text });
  const output = bind.output;
  try {
    const dir = path.posix.dirname(output);
    const writable = await t.run(['test', '-d', dir, '-a', '-w', dir]);
    const fileSt = await host.stat(output);
    const fileOk = fileSt === null || bind.mode === 'include' || (await t.run(['test', '-w', output])).ok;
    if (!writable.ok) {
      const parentExists = (await host.stat(dir)) !== null;
      add(
        'output',
        false,
        parentExists
          ? `${dir} is not writable`
          : `${dir} does not exist (the first apply creates it only if its parent is writable)`,
      );
    } else if (bind.mode === 'block' && fileSt === null) {
      add('output', false, `${output} does not exist (block mode edits an existing file)`);
    } else {
      add(
        'output',
        fileOk,
        fileOk ? `${output}: directory writable${fileSt ? '' : ' (file not there yet)'}` : `${output} is not writable`,
      );
    }

    if (t.root !== output) {
      const inc = await t.includes(output);
      add('include', inc, inc ? `${t.root} includes ${output}` : notIncludedMessage(t.root, output));
    }

    const cc = await t.run(bind.checkconf, onHost(t.args, checkconfCwd(t.args)));
    add('checkconf', cc.ok, cc.ok ? `${cc.command}: live configuration passes` : commandDetail(cc));

    const probe = reloadProbe(bind.reload);
    const r = await t.run(probe.argv);
    add('reload', r.ok, r.ok ? probe.describe : commandDetail(r));

    if (t.verification) {
      const live = await host.read(output).catch(() => null);
      const text = live?.data.toString('latin1') ?? '';
      const decided = servingDns64Prefixes(bind.mode === 'block' ? (managedBlockOf(text) ?? '') : text);
      const served = await t.verification.ask();
      const verdict =
        decided.length === 0 ? beforeFirstApply(output, bind.mode, served) : compareServed(decided, served);
      add('verify', verdict.ok, verdict.detail);
    }
  } catch (err) {
    add('error', false, t.message(err));
  }
  return checks;
}

/**
 * The verify check when the live file (include, or managed block) holds no dns64 prefix: the daemon
 * has not applied yet. Nothing to compare, and BIND's ipv4only.arpa zone exists only with a dns64
 * block, so no answer is expected: ok, saying that verification starts after the first apply.
 */
export function beforeFirstApply(
  output: string,
  mode: BindSettings['mode'],
  served: { ok: true; prefixes: string[] } | { ok: false; error: string },
): Verdict {
  const where = mode === 'block' ? `the managed block of ${output}` : output;
  const head =
    `${where} holds no dns64 prefix yet (not applied): nothing to compare;` +
    ' verification starts after the first apply';
  if (!served.ok || served.prefixes.length === 0) return { ok: true, served: served.ok ? [] : null, detail: head };
  return {
    ok: true,
    served: served.prefixes,
    detail:
      `${head}. BIND serves ${served.prefixes.join(', ')} now (a dns64 outside ${where}, or text it has not` +
      ' reloaded): after the first apply it must serve the decided set only',
  };
}

/**
 * A harmless stand-in for the reload command: `rndc ... reconfig` becomes `rndc ... status` (key,
 * control channel and named all checked); anything else is only looked up with `command -v`.
 */
export function reloadProbe(reload: string[]): { argv: string[]; describe: string } {
  const last = reload[reload.length - 1];
  if (path.posix.basename(reload[0]!) === 'rndc' && (last === 'reconfig' || last === 'reload') && reload.length >= 2) {
    const argv = [...reload.slice(0, -1), 'status'];
    return { argv, describe: `${argv.join(' ')}: named answers on its control channel` };
  }
  return {
    argv: ['sh', '-c', 'command -v "$1"', 'sh', reload[0]!],
    describe: `${reload[0]} is installed (not run: it would reload)`,
  };
}
