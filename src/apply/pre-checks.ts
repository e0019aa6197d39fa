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
import type { BindSettings, ServedAnswer, TargetCheck, Verifier } from './target.js';
import { askSettled, compareServed, type Verdict } from './verify.js';
import { DEFAULT_POOL } from '../config/schema.js';
import type { VerifySettings } from '../config/schema-types.js';

export interface PreCheckTarget {
  host: Host;
  bind: BindSettings;
  args: CheckconfArgs;
  /** named.conf as a path on the host */
  root: string;
  run(argv: string[], cwd?: string): Promise<ExecResult>;
  includes(file: string): Promise<boolean>;
  /** how BIND is asked what it serves, and its settings; null: verification is off */
  verify: { settings: VerifySettings; ask: Verifier['ask'] } | null;
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

    if (t.verify) {
      const live = await host.read(output).catch(() => null);
      const text = live?.data.toString('latin1') ?? '';
      const inFile = servingDns64Prefixes(bind.mode === 'block' ? (managedBlockOf(text) ?? '') : text);
      const { settings } = t.verify;
      // the operator may run this right after a reload, when BIND's first answers can be SERVFAIL
      const ask = (pool?: string) => askSettled(() => t.verify!.ask(pool));
      if (settings.pools === undefined) {
        const served = await ask();
        const verdict =
          inFile.length === 0 ? beforeFirstApply(output, bind.mode, served) : compareServed(inFile, served);
        add('verify', verdict.ok, verdict.detail);
      } else {
        // With client pools each asker gets its pool's part of the file, which the file alone does not tell.
        const askers = [
          { pool: DEFAULT_POOL, source: settings.source },
          ...settings.pools.map((p) => ({ pool: p.name, source: p.source })),
        ];
        const answers = await Promise.all(askers.map((a) => ask(a.pool === DEFAULT_POOL ? undefined : a.pool)));
        askers.forEach(({ pool, source }, i) => {
          const served = answers[i]!;
          const verdict =
            inFile.length === 0 ? beforeFirstApply(output, bind.mode, served) : comparePoolShare(inFile, served);
          const from = source === undefined ? 'without verify.source' : `from ${source}`;
          add('verify', verdict.ok, `pool ${pool} (asked ${from}): ${verdict.detail}`);
        });
      }
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
export function beforeFirstApply(output: string, mode: BindSettings['mode'], served: ServedAnswer): Verdict {
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
 * The verify check of one pool's asker (config with client pools): the file does not say which of
 * its prefixes go to which pool (that is the decision, which the daemon's verification compares
 * with), so this checks what it can: BIND gives the asker some of the prefixes the file serves, and
 * none it does not serve.
 */
export function comparePoolShare(inFile: readonly string[], served: ServedAnswer): Verdict {
  if (!served.ok) return { ok: false, served: null, detail: served.error };
  const list = (xs: readonly string[]) => xs.join(', ');
  const extra = served.prefixes.filter((p) => !inFile.includes(p));
  if (extra.length > 0)
    return {
      ok: false,
      served: served.prefixes,
      detail:
        `BIND serves ${list(served.prefixes)}; the file does not serve ${list(extra)}` +
        ' (a dns64 outside it, or text BIND has not reloaded?)',
    };
  if (served.prefixes.length === 0)
    return {
      ok: false,
      served: [],
      detail:
        `BIND serves no prefix; the file serves ${list(inFile)} (is the source a client of this pool,` +
        ' within bind.dns64.clients? does BIND have an ipv4only.arpa zone of its own?)',
    };
  return {
    ok: true,
    served: served.prefixes,
    detail:
      `BIND serves ${list(served.prefixes)}, of the file's ${list(inFile)}` +
      " (whether that is this pool's decided set, the daemon's verification checks)",
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
