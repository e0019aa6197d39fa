// One apply algorithm for every BIND, over a Host (this machine, or one reached over SSH):
//   render -> shadow validate -> atomic write -> reload -> (verify, by the runner) -> rollback
// Its parts have files of their own: the output file (output-file.ts), the shadow validation
// (shadow-check.ts), the sweep of leftovers (sweep.ts) and the `targets test` checks (pre-checks.ts).
// The live file never holds text that failed named-checkconf; a failed reload puts the previous
// bytes back; once the rename happened, nothing lets the next apply skip the reload.
import os from 'node:os';
import path from 'node:path';
import { parseCheckconf, type CheckconfArgs } from '../config/checkconf-args.js';
import type { VerifySettings } from '../config/schema-types.js';
import { tempNameBeside } from '../lib/files.js';
import { NoAnswer } from '../lib/ipv4only.js';
import { commandDetail as detail, type ExecResult, type Host, type HostStat } from './host.js';
import { OutputFile } from './output-file.js';
import { preChecks } from './pre-checks.js';
import { ShadowCheck, type ShadowCopy } from './shadow-check.js';
import { Sweeper } from './sweep.js';
import { queryServedPrefixes } from './verify.js';
import type {
  ApplyOptions,
  ApplyOutcome,
  ApplyStage,
  ApplyTarget,
  BindSettings,
  Drift,
  ServedAnswer,
  TargetCheck,
  Verifier,
} from './target.js';

/** connect: reaching a remote target (SSH) */
export interface BindTargetOptions {
  /** SSH: run applies in the background */
  background?: boolean;
  /** where shadow copies of the include chain go (default: the host's temp directory) */
  tmpDir?: string;
  /** leftovers of interrupted applies older than this are removed (ms) */
  staleAfterMs?: number;
  /** no other process writes beside the output (the daemon holds its lock): every leftover there goes */
  soleWriter?: boolean;
  /** how to ask this BIND what it serves; null: never */
  verify?: VerifySettings | null;
}

const DEFAULT_STALE_MS = 10 * 60_000;

class StageError extends Error {
  constructor(
    readonly stage: ApplyStage,
    message: string,
  ) {
    super(message);
  }
}

export class BindTarget implements ApplyTarget {
  readonly background: boolean;
  reloadPending = false;
  readonly args: CheckconfArgs;
  readonly verification: Verifier | null;
  /** how BIND is asked what it serves (null: never) */
  private readonly verify: VerifySettings | null;
  private readonly file: OutputFile;
  private readonly shadows: ShadowCheck;
  private readonly sweeper: Sweeper;

  constructor(
    readonly name: string,
    readonly host: Host,
    readonly bind: BindSettings,
    opts: BindTargetOptions = {},
  ) {
    this.background = !!opts.background;
    this.args = parseCheckconf(bind.checkconf);
    // -t: named-checkconf sees only the chroot, so the shadow must be inside it (beside the output)
    const tmpDir =
      this.args.chroot !== null ? path.posix.dirname(bind.output) : (opts.tmpDir ?? os.tmpdir()).replace(/\/+$/, '');
    const label = (file: string) => this.label(file);
    this.file = new OutputFile(host, bind, label);
    this.shadows = new ShadowCheck(host, bind, this.args, tmpDir, label, (argv, cwd) => this.run(argv, cwd));
    this.sweeper = new Sweeper(host, bind.output, tmpDir, opts.staleAfterMs ?? DEFAULT_STALE_MS, opts.soleWriter);
    const verify = (this.verify = opts.verify ?? null);
    this.verification = verify && {
      interval: verify.interval,
      ...(verify.pools?.length ? { pools: verify.pools.map((p) => p.name) } : {}),
      ask: (pool) => this.askServed(verify, pool),
    };
  }

  /** named.conf as a path on the host */
  get root(): string {
    return this.shadows.root;
  }

  /** A file's name in messages: a remote one carries the target's name. */
  private label(file: string): string {
    return this.name === 'local' ? file : `${this.name}:${file}`;
  }

  /** The whole output file as it should be for this rendered text (block mode splices the block in). */
  desiredFile(rendered: string): Promise<{ current: Buffer | null; desired: Buffer; stat: HostStat | null }> {
    return this.file.desired(rendered);
  }

  /**
   * How the output differs from what `rendered` makes of it (OutputFile.drift, on the host).
   * An unreachable host says nothing (its verification reports it); an unreadable output is drift,
   * so the apply that follows reports why.
   */
  async drift(rendered: string): Promise<Drift | null> {
    try {
      await this.host.begin();
    } catch {
      return null;
    }
    try {
      return await this.file.drift(rendered);
    } catch (err) {
      return { file: this.label(this.bind.output), detail: `cannot be compared: ${this.message(err)}` };
    } finally {
      this.host.release();
    }
  }

  async apply(rendered: string, opts: ApplyOptions = {}): Promise<ApplyOutcome> {
    const start = performance.now();
    const done = (o: Omit<ApplyOutcome, 'target' | 'ms'>): ApplyOutcome => ({
      target: this.name,
      ...o,
      ms: performance.now() - start,
    });
    try {
      await this.host.begin();
    } catch (err) {
      // a connect error names the target (the host key, the private key): it stands alone in logs
      return done({ result: 'failed', stage: 'connect', error: (err as Error).message });
    }
    try {
      return await this.applyBegun(rendered, opts, done);
    } finally {
      this.host.release();
    }
  }

  private async applyBegun(
    rendered: string,
    opts: ApplyOptions,
    finish: (o: Omit<ApplyOutcome, 'target' | 'ms'>) => ApplyOutcome,
  ): Promise<ApplyOutcome> {
    const host = this.host;
    const output = this.bind.output;
    let current: Buffer | null;
    let desired: Buffer;
    let like: HostStat | null;
    try {
      ({ current, desired, stat: like } = await this.desiredFile(rendered));
    } catch (err) {
      return finish({ result: 'failed', stage: 'prepare', error: this.message(err) });
    }
    const file = this.file.historyText(current, desired);
    const done = (o: Omit<ApplyOutcome, 'target' | 'ms'>) => finish({ ...o, output: file });
    await this.sweeper.sweepIfDue();

    if (current !== null && current.equals(desired)) {
      if ((!this.reloadPending && !opts.reload) || opts.dryRun) return done({ result: 'unchanged' });
      // An earlier apply left this file live without a confirmed reload, or BIND serves something else.
      const reload = await this.run(this.bind.reload);
      if (!reload.ok) return done({ result: 'failed', stage: 'reload', error: detail(reload), reload_ms: reload.ms });
      this.reloadPending = false;
      return done({ result: 'applied', reload_ms: reload.ms });
    }

    const warnings: string[] = [];
    const pendingBefore = this.reloadPending;
    const tmp = tempNameBeside(output);
    let renamed = false;
    let shadow: ShadowCopy | null = null;
    let cleanup: Promise<void> | null = null;
    try {
      // The upload and the shadow of the include chain do not depend on each other: both at once.
      const [up, sh] = await Promise.allSettled([
        this.file.upload(tmp, desired, like, current === null),
        this.shadows.copy(tmp),
      ]);
      if (sh.status === 'fulfilled') shadow = sh.value;
      if (up.status === 'rejected') throw new StageError('write', this.message(up.reason));
      if (up.value.ownerProblem) warnings.push(`${this.label(output)}: ${up.value.ownerProblem}`);
      if (sh.status === 'rejected') throw new StageError('validate', this.message(sh.reason));
      const check = await this.shadows.check(shadow!.shadow);
      cleanup = shadow!.remove(); // sent along with what follows
      if (!check.ok) return done({ result: 'failed', stage: 'validate', error: detail(check) });
      if (opts.dryRun) return done({ result: 'dry-run' });
      await host.rename(tmp, output).catch((err: unknown) => {
        // Lost with the connection, the rename may have happened: then the (validated) new file
        // is live but not loaded, and the next apply, finding it unchanged, must still reload.
        if (host.lostConnection(err)) this.reloadPending = true;
        throw new StageError('write', this.message(err));
      });
      renamed = true;
      this.reloadPending = true;
      // The new file is live: whatever fails now, BIND must still be told to load it.
      await host.syncDir(path.posix.dirname(output)).catch((err: unknown) => {
        warnings.push(`${this.label(path.posix.dirname(output))}: fsync of the directory failed: ${this.message(err)}`);
      });
    } catch (err) {
      return done({
        result: 'failed',
        stage: err instanceof StageError ? err.stage : 'write',
        error: this.message(err),
        ...(warnings.length ? { warnings } : {}),
      });
    } finally {
      // After a dropped connection these fail; the sweep of a later apply removes the leftovers.
      cleanup ??= shadow?.remove() ?? null;
      await Promise.all([cleanup, renamed ? null : host.unlink(tmp).catch(() => undefined)]);
    }

    const w = warnings.length ? { warnings } : {};
    // A repair of a removed file puts back what BIND loaded: it cannot have loaded a configuration
    // without the file, so there is nothing to reload (unless a reload was pending anyway).
    if (opts.repair && current === null && !pendingBefore) {
      this.reloadPending = false;
      return done({ result: 'applied', ...w });
    }
    const reload = await this.run(this.bind.reload);
    if (reload.ok) {
      this.reloadPending = false;
      return done({ result: 'applied', reload_ms: reload.ms, ...w });
    }
    // Nothing answers on the control channel: named is not running. There is no running
    // configuration for the disk to match, and the validated file is what it should load when it
    // starts: it stays, and the reload stays pending.
    if (bindNotRunning(reload)) {
      return done({
        result: 'failed',
        stage: 'reload',
        error: `${detail(reload)} (BIND is not running: the validated file stays in place for its start)`,
        rolled_back: false,
        reload_ms: reload.ms,
        ...w,
      });
    }
    // BIND keeps its running config after a failed reconfig: put the file back so disk matches it.
    // If the connection went down mid-reload, the reload may or may not have happened; restoring
    // the old file makes the next apply write and reload again, which converges either way.
    let rolled_back = false;
    host.release();
    try {
      // No previous file: leave an empty one (zero dns64 blocks is valid) so BIND can still start.
      await this.file.writeAtomic(output, current ?? Buffer.alloc(0));
      rolled_back = true;
      this.reloadPending = false;
    } catch {
      // reported through rolled_back: false; reloadPending makes the next apply reload
    }
    return done({ result: 'failed', stage: 'reload', error: detail(reload), rolled_back, reload_ms: reload.ms, ...w });
  }

  private run(argv: string[], cwd?: string): Promise<ExecResult> {
    return this.host.exec(argv, { timeoutMs: this.bind.command_timeout, cwd });
  }

  private message(err: unknown): string {
    const m = err instanceof Error ? err.message : String(err);
    return m.startsWith(`${this.name}:`) ? m.slice(this.name.length + 1).trim() : m;
  }

  /** Asks as a client of `pool` (its source from verify.pools), or of the default pool (verify.source). */
  private async askServed(verify: VerifySettings, pool?: string): Promise<ServedAnswer> {
    const source = pool === undefined ? verify.source : verify.pools?.find((p) => p.name === pool)?.source;
    if (pool !== undefined && source === undefined)
      return { ok: false, error: `no verify.pools source for pool ${pool}`, unanswered: true };
    try {
      return { ok: true, prefixes: await queryServedPrefixes({ ...verify, source }) };
    } catch (err) {
      return { ok: false, error: this.message(err), ...(err instanceof NoAnswer ? { unanswered: true as const } : {}) };
    }
  }

  /** Does the configuration read `file`? (`validate --bind`) */
  includes(file: string): Promise<boolean> {
    return this.shadows.includes(file);
  }

  /** `validate --bind`: named-checkconf on the configuration with this text in place; changes nothing. */
  async validate(rendered: string): Promise<ExecResult> {
    const { desired, stat } = await this.file.desired(rendered);
    const tmp = tempNameBeside(this.bind.output);
    await this.host.writeNew(tmp, desired, { like: stat });
    let shadow: ShadowCopy | null = null;
    try {
      shadow = await this.shadows.copy(tmp);
      return await this.shadows.check(shadow.shadow);
    } finally {
      await shadow?.remove();
      await this.host.unlink(tmp).catch(() => undefined);
    }
  }

  /** `targets test` (pre-checks.ts); changes nothing on the target. */
  test(): Promise<TargetCheck[]> {
    return preChecks({
      host: this.host,
      bind: this.bind,
      args: this.args,
      root: this.root,
      run: (argv, cwd) => this.run(argv, cwd),
      includes: (file) => this.includes(file),
      verify: this.verify && { settings: this.verify, ask: (pool) => this.askServed(this.verify!, pool) },
      message: (err) => this.message(err),
    });
  }

  close(): Promise<void> {
    return this.host.close();
  }
}

/** rndc found nothing listening on the control channel ("connect failed: ...: connection refused"). */
function bindNotRunning(reload: ExecResult): boolean {
  return /connect failed: .*connection refused/.test(reload.output);
}
