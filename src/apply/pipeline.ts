// One apply algorithm for every BIND, over a Host (this machine, or one reached over SSH):
//   render -> shadow validate -> atomic write -> reload -> (verify, by the runner) -> rollback
// The live file never holds text that failed named-checkconf; a failed reload puts the previous
// bytes back; once the rename happened, nothing lets the next apply skip the reload.
import os from 'node:os';
import path from 'node:path';
import { checkconfArgv, onHost, parseCheckconf, type CheckconfArgs } from '../config/checkconf-args.js';
import {
  checkconfCwd,
  includesFile,
  nameOriginals,
  notIncludedMessage,
  shadowChain,
  type ChainFiles,
  type Shadow,
} from './bind/include-chain.js';
import { managedBlockOf, NamedConfError, servingDns64Prefixes, spliceManagedBlock } from './bind/named-conf.js';
import { SHADOW_PREFIX, type ExecResult, type Host, type HostStat } from './host.js';
import { tempNameBeside, tempPrefixFor } from '../lib/files.js';
import type { VerifySettings } from '../config/schema-types.js';
import { compareServed, queryServedPrefixes } from './verify.js';

/** connect: reaching a remote target (SSH) */
export type ApplyStage = 'connect' | 'prepare' | 'validate' | 'write' | 'reload';

export interface ApplyOutcome {
  target: string;
  result: 'unchanged' | 'applied' | 'failed' | 'dry-run';
  stage?: ApplyStage;
  error?: string;
  /** the previous file was restored after a failed reload */
  rolled_back?: boolean;
  /** the apply went through, but not everything was as asked (an owner not kept, an fsync failed) */
  warnings?: string[];
  ms: number;
  reload_ms?: number;
  /**
   * The output as it was and as it is (or, failed, would have been) after this apply, for the apply
   * history's diff (block mode: the managed block); absent when the file was not read. Not part of
   * the state file.
   */
  output?: { file: string; before: Buffer | null; after: Buffer };
}

export interface ApplyOptions {
  dryRun?: boolean;
  /** reload even when the file already holds the text (BIND was found serving something else) */
  reload?: boolean;
}

/** What BIND answers for ipv4only.arpa, as prefixes, or why that could not be found out. */
export type ServedAnswer = { ok: true; prefixes: string[] } | { ok: false; error: string };

/** What the daemon's runners drive: BindTarget, or a test's stand-in. */
export interface ApplyTarget {
  readonly name: string;
  /** applies cross the network (SSH): the daemon runs them without holding its rounds for them */
  readonly background?: boolean;
  apply(rendered: string, opts?: ApplyOptions): Promise<ApplyOutcome>;
  /** how to ask BIND what it serves; absent or null: verification is off */
  verification?: { interval: number; ask(): Promise<ServedAnswer> } | null;
  /** the live file may hold text BIND has not loaded */
  reloadPending?: boolean;
  close(): Promise<void>;
}

export interface BindSettings {
  mode: 'include' | 'block';
  /** absolute path on the target's host */
  output: string;
  checkconf: string[];
  reload: string[];
  /** ms, for each command */
  command_timeout: number;
}

export interface TargetCheck {
  check: string;
  ok: boolean;
  detail: string;
}

export interface BindTargetOptions {
  /** SSH: run applies in the background */
  background?: boolean;
  /** where shadow copies of the include chain go (default: the host's temp directory) */
  tmpDir?: string;
  /** leftovers of interrupted applies older than this are removed (ms) */
  staleAfterMs?: number;
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
  readonly verification: { interval: number; ask(): Promise<ServedAnswer> } | null;
  private readonly tmpDir: string;
  private readonly staleAfterMs: number;
  /** leftovers are looked for after each (re)connect, and again while young ones remain */
  private sweptGeneration = -1;
  private sweepNeeded = false;

  constructor(
    readonly name: string,
    readonly host: Host,
    readonly bind: BindSettings,
    opts: BindTargetOptions = {},
  ) {
    this.background = !!opts.background;
    this.args = parseCheckconf(bind.checkconf);
    // -t: named-checkconf sees only the chroot, so the shadow must be inside it (beside the output)
    this.tmpDir =
      this.args.chroot !== null ? path.posix.dirname(bind.output) : (opts.tmpDir ?? os.tmpdir()).replace(/\/+$/, '');
    this.staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_MS;
    const verify = opts.verify ?? null;
    this.verification = verify ? { interval: verify.interval, ask: () => this.askServed(verify) } : null;
  }

  /** named.conf as a path on the host */
  get root(): string {
    return onHost(this.args, this.args.namedConf);
  }

  /** A file's name in messages: a remote one carries the target's name. */
  private label(file: string): string {
    return this.name === 'local' ? file : `${this.name}:${file}`;
  }

  /** The whole output file as it should be for this rendered text (block mode splices the block in). */
  async desiredFile(rendered: string): Promise<{ current: Buffer | null; desired: Buffer; stat: HostStat | null }> {
    const file = await this.host.read(this.bind.output);
    const current = file?.data ?? null;
    const stat = file?.stat ?? null;
    const text = Buffer.from(rendered, 'utf8');
    if (this.bind.mode === 'include') return { current, desired: text, stat };
    if (current === null)
      throw new NamedConfError(
        `${this.label(this.bind.output)} does not exist (block mode edits an existing named.conf.options)`,
      );
    // latin1: one char per byte, so every byte outside the block comes back as it was
    const spliced = spliceManagedBlock(
      current.toString('latin1'),
      text.toString('latin1'),
      this.label(this.bind.output),
    );
    return { current, desired: Buffer.from(spliced, 'latin1'), stat };
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
    const file = this.historyText(current, desired);
    const done = (o: Omit<ApplyOutcome, 'target' | 'ms'>) => finish({ ...o, output: file });
    if (this.sweepNeeded || this.sweptGeneration !== host.generation) {
      this.sweptGeneration = host.generation;
      this.sweepNeeded = await this.sweep().catch(() => true);
    }

    if (current !== null && current.equals(desired)) {
      if ((!this.reloadPending && !opts.reload) || opts.dryRun) return done({ result: 'unchanged' });
      // An earlier apply left this file live without a confirmed reload, or BIND serves something else.
      const reload = await this.run(this.bind.reload);
      if (!reload.ok) return done({ result: 'failed', stage: 'reload', error: detail(reload), reload_ms: reload.ms });
      this.reloadPending = false;
      return done({ result: 'applied', reload_ms: reload.ms });
    }

    const warnings: string[] = [];
    const tmp = tempNameBeside(output);
    let renamed = false;
    let shadow: { shadow: Shadow; remove(): Promise<void> } | null = null;
    let cleanup: Promise<void> | null = null;
    try {
      // The upload and the shadow of the include chain do not depend on each other: both at once.
      const [up, sh] = await Promise.allSettled([this.upload(tmp, desired, like, current === null), this.shadow(tmp)]);
      if (sh.status === 'fulfilled') shadow = sh.value;
      if (up.status === 'rejected') throw new StageError('write', this.message(up.reason));
      if (up.value.ownerProblem) warnings.push(`${this.label(output)}: ${up.value.ownerProblem}`);
      if (sh.status === 'rejected') throw new StageError('validate', this.message(sh.reason));
      const check = await this.check(shadow!.shadow);
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

    const reload = await this.run(this.bind.reload);
    const w = warnings.length ? { warnings } : {};
    if (reload.ok) {
      this.reloadPending = false;
      return done({ result: 'applied', reload_ms: reload.ms, ...w });
    }
    // BIND keeps its running config after a failed reconfig: put the file back so disk matches it.
    // If the connection went down mid-reload, the reload may or may not have happened; restoring
    // the old file makes the next apply write and reload again, which converges either way.
    let rolled_back = false;
    host.release();
    try {
      // No previous file: leave an empty one (zero dns64 blocks is valid) so BIND can still start.
      await this.writeAtomic(output, current ?? Buffer.alloc(0));
      rolled_back = true;
      this.reloadPending = false;
    } catch {
      // reported through rolled_back: false; reloadPending makes the next apply reload
    }
    return done({ result: 'failed', stage: 'reload', error: detail(reload), rolled_back, reload_ms: reload.ms, ...w });
  }

  /**
   * What the apply history diffs: the whole output in include mode; in block mode only the managed
   * block, since nothing else of named.conf.options changes and the rest is the operator's.
   */
  private historyText(current: Buffer | null, desired: Buffer): NonNullable<ApplyOutcome['output']> {
    const file = this.label(this.bind.output);
    if (this.bind.mode === 'include') return { file, before: current, after: desired };
    const block = (b: Buffer) => {
      // the lines between the marker lines, as spliceManagedBlock writes them
      const inner = managedBlockOf(b.toString('latin1')) ?? '';
      return Buffer.from(inner.slice(inner.indexOf('\n') + 1, inner.lastIndexOf('\n') + 1), 'latin1');
    };
    return { file: `${file} (managed block)`, before: current && block(current), after: block(desired) };
  }

  private run(argv: string[], cwd?: string): Promise<ExecResult> {
    return this.host.exec(argv, { timeoutMs: this.bind.command_timeout, cwd });
  }

  /** Temp file beside the target, then rename over it. */
  private async writeAtomic(file: string, content: Buffer): Promise<void> {
    const like = await this.host.stat(file);
    const tmp = tempNameBeside(file);
    try {
      await this.host.writeNew(tmp, content, { like });
      await this.host.rename(tmp, file);
    } catch (err) {
      await this.host.unlink(tmp).catch(() => undefined);
      throw err;
    }
    await this.host.syncDir(path.posix.dirname(file)).catch(() => undefined);
  }

  /** Writes the candidate beside the output; the first write of an include file creates its directory. */
  private async upload(tmp: string, content: Buffer, like: HostStat | null, mayCreateDir: boolean) {
    const host = this.host;
    return host.writeNew(tmp, content, { like }).catch(async (err: unknown) => {
      if (!(mayCreateDir && host.notFound(err))) throw err;
      await host.mkdirp(path.posix.dirname(this.bind.output));
      return host.writeNew(tmp, content, { like });
    });
  }

  private chainFiles(): Pick<ChainFiles, 'read' | 'list'> {
    const host = this.host;
    return {
      read: (file) =>
        host.read(file).then(
          (r) => r?.data.toString('latin1') ?? null,
          (err: unknown) => {
            if (host.lostConnection(err)) throw err;
            return null;
          },
        ),
      list: (dir) =>
        host.readdir(dir).then(
          (entries) => entries.map((e) => e.name),
          () => null,
        ),
    };
  }

  /** A shadow of the include chain whose copy of the output is `candidate`, in a fresh private directory. */
  private async shadow(candidate: string): Promise<{ shadow: Shadow; remove(): Promise<void> }> {
    const host = this.host;
    let dir: Promise<string> | null = null;
    const written: string[] = [];
    const remove = async () => {
      const d = await dir?.catch(() => null);
      if (d) await host.removeTree(d, written).catch(() => undefined);
    };
    const files: ChainFiles = {
      ...this.chainFiles(),
      writeShadow: async (name, text) => {
        dir ??= host.mkdtemp(`${this.tmpDir}/${SHADOW_PREFIX}`);
        const copy = `${await dir}/${name}`;
        written.push(name);
        await host.writeNew(copy, Buffer.from(text, 'latin1'), { sync: false }); // read once, then removed
        return copy;
      },
    };
    try {
      const shadow = await shadowChain(files, this.args, this.bind.output, candidate);
      if (shadow === null)
        throw new StageError('validate', notIncludedMessage(this.label(this.root), this.bind.output));
      return { shadow, remove };
    } catch (err) {
      await remove();
      throw err;
    }
  }

  /** checkconf on the shadow; its messages name the operator's files, not our copies. */
  private async check(shadow: Shadow): Promise<ExecResult> {
    const r = await this.run(checkconfArgv(this.args, shadow.root), onHost(this.args, checkconfCwd(this.args)));
    return { ...r, command: this.bind.checkconf.join(' '), output: nameOriginals(r.output, shadow.originals) };
  }

  /** Removes our leftovers of interrupted applies; true if young ones remain (look again next time). */
  private async sweep(): Promise<boolean> {
    const host = this.host;
    const cutoff = Date.now() / 1000 - this.staleAfterMs / 1000;
    const dir = path.posix.dirname(this.bind.output);
    const tempPrefix = tempPrefixFor(this.bind.output);
    let young = false;
    for (const e of await host.readdir(dir).catch(() => [])) {
      if (!e.name.startsWith(tempPrefix) || e.isDirectory) continue;
      if (e.mtime <= cutoff) await host.unlink(`${dir}/${e.name}`).catch(() => undefined);
      else young = true;
    }
    for (const e of await host.readdir(this.tmpDir).catch(() => [])) {
      if (!e.name.startsWith(SHADOW_PREFIX) || !e.isDirectory) continue;
      if (e.mtime <= cutoff) await host.removeTree(`${this.tmpDir}/${e.name}`).catch(() => undefined);
      else young = true;
    }
    return young;
  }

  private message(err: unknown): string {
    const m = err instanceof Error ? err.message : String(err);
    return m.startsWith(`${this.name}:`) ? m.slice(this.name.length + 1).trim() : m;
  }

  private async askServed(verify: VerifySettings): Promise<ServedAnswer> {
    try {
      return { ok: true, prefixes: await queryServedPrefixes(verify) };
    } catch (err) {
      return { ok: false, error: this.message(err) };
    }
  }

  /** Does the configuration read `file`? (`validate --bind`) */
  includes(file: string): Promise<boolean> {
    return includesFile(this.chainFiles(), this.args, file);
  }

  /** `validate --bind`: named-checkconf on the configuration with this text in place; changes nothing. */
  async validate(rendered: string): Promise<ExecResult> {
    const { desired, stat } = await this.desiredFile(rendered);
    const tmp = tempNameBeside(this.bind.output);
    await this.host.writeNew(tmp, desired, { like: stat });
    let shadow: { shadow: Shadow; remove(): Promise<void> } | null = null;
    try {
      shadow = await this.shadow(tmp);
      return await this.check(shadow.shadow);
    } finally {
      await shadow?.remove();
      await this.host.unlink(tmp).catch(() => undefined);
    }
  }

  /**
   * `targets test`: the host's own checks (SSH: connect, SFTP), that the output can be written, that
   * named.conf includes it, that checkconf passes on the live configuration, that the reload command
   * can run, and that BIND serves what the live file says. Changes nothing on the target.
   */
  async test(): Promise<TargetCheck[]> {
    const host = this.host;
    const checks: TargetCheck[] = host.checks ? await host.checks() : [];
    if (checks.some((c) => !c.ok && c.check === 'connect')) return checks;
    const add = (check: string, ok: boolean, text: string) => checks.push({ check, ok, detail: text });
    const output = this.bind.output;
    try {
      const dir = path.posix.dirname(output);
      const writable = await this.run(['test', '-d', dir, '-a', '-w', dir]);
      const fileSt = await host.stat(output);
      const fileOk = fileSt === null || this.bind.mode === 'include' || (await this.run(['test', '-w', output])).ok;
      if (!writable.ok) {
        const parentExists = (await host.stat(dir)) !== null;
        add(
          'output',
          false,
          parentExists
            ? `${dir} is not writable`
            : `${dir} does not exist (the first apply creates it only if its parent is writable)`,
        );
      } else if (this.bind.mode === 'block' && fileSt === null) {
        add('output', false, `${output} does not exist (block mode edits an existing file)`);
      } else {
        add(
          'output',
          fileOk,
          fileOk
            ? `${output}: directory writable${fileSt ? '' : ' (file not there yet)'}`
            : `${output} is not writable`,
        );
      }

      if (this.root !== output) {
        const inc = await this.includes(output);
        add('include', inc, inc ? `${this.root} includes ${output}` : notIncludedMessage(this.root, output));
      }

      const cc = await this.run(this.bind.checkconf, onHost(this.args, checkconfCwd(this.args)));
      add('checkconf', cc.ok, cc.ok ? `${cc.command}: live configuration passes` : detail(cc));

      const probe = reloadProbe(this.bind.reload);
      const r = await this.run(probe.argv);
      add('reload', r.ok, r.ok ? probe.describe : detail(r));

      if (this.verification) {
        const live = await host.read(output).catch(() => null);
        const text = live?.data.toString('latin1') ?? '';
        const decided = servingDns64Prefixes(this.bind.mode === 'block' ? (managedBlockOf(text) ?? '') : text);
        const served = await this.verification.ask();
        const verdict = compareServed(decided, served);
        add('verify', verdict.ok, verdict.detail);
      }
    } catch (err) {
      add('error', false, this.message(err));
    }
    return checks;
  }

  close(): Promise<void> {
    return this.host.close();
  }
}

function detail(r: ExecResult): string {
  return `${r.command}: ${r.output}`;
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
