// A remote BIND reached over SSH. Mirrors LocalBindTarget: read the live file over SFTP, splice
// (block mode), upload a temp file beside it, validate a shadow of the remote include chain with
// the remote named-checkconf (the live file never holds text that failed it), rename atomically
// (posix-rename@openssh.com), reload, and put the previous file back if the reload fails.
import path from 'node:path';
import { namedConfOf } from '../config/load.js';
import { checkconfFor, notIncludedMessage, shadowChain, type ConfFiles } from './checkconf.js';
import type { ApplyOutcome, BindTarget } from './local-target.js';
import { NamedConfError, spliceManagedBlock } from './named-conf.js';
import {
  SftpStatusError,
  SshError,
  SshSession,
  type ExecResult,
  type RemoteStat,
  type SshEndpoint,
} from './ssh-session.js';

export interface RemoteBindSettings {
  mode: 'include' | 'block';
  /** absolute path on the remote host */
  output: string;
  checkconf: string[];
  reload: string[];
  /** ms, for each remote command */
  command_timeout: number;
}

export interface SshTargetOptions {
  /** where shadow copies of the include chain go on the remote host (default /tmp) */
  remoteTmp?: string;
  /** leftovers of interrupted applies (temp files, shadow dirs) older than this are removed (ms) */
  staleAfterMs?: number;
}

export interface TargetCheck {
  check: string;
  ok: boolean;
  detail: string;
}

const SHADOW_PREFIX = 'nat64-health-check-';
const NO_SUCH_FILE = 2;
const DEFAULT_STALE_MS = 10 * 60_000;

type Stage = NonNullable<ApplyOutcome['stage']>;

interface Shadow {
  /** what checkconf reads instead of the live named.conf */
  root: string;
  /** shadow copy (or candidate) -> the operator's file it stands for, for messages */
  originals: Map<string, string>;
  remove(): Promise<void>;
}

class StageError extends Error {
  constructor(
    readonly stage: Stage,
    message: string,
  ) {
    super(message);
  }
}

export class SshBindTarget implements BindTarget {
  /** applies cross the network: the daemon does not hold its rounds for them */
  readonly background = true;
  readonly session: SshSession;
  /** the live file was replaced but the reload was not confirmed: reload even if unchanged */
  private reloadPending = false;
  private readonly remoteTmp: string;
  private readonly staleAfterMs: number;
  /** leftovers are looked for after each (re)connect, and again while young ones remain */
  private sweptGeneration = -1;
  private sweepNeeded = false;

  constructor(
    readonly name: string,
    endpoint: Omit<SshEndpoint, 'name'>,
    readonly bind: RemoteBindSettings,
    opts: SshTargetOptions = {},
  ) {
    this.session = new SshSession({ ...endpoint, name });
    this.remoteTmp = (opts.remoteTmp ?? '/tmp').replace(/\/+$/, '') || '/';
    this.staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_MS;
  }

  get root(): string {
    return path.posix.resolve('/', namedConfOf(this.bind.checkconf));
  }

  async desiredFile(rendered: string): Promise<{ current: string | null; desired: string; stat: RemoteStat | null }> {
    const file = await this.session.readFileStat(this.bind.output);
    const current = file?.text ?? null;
    const stat = file?.stat ?? null;
    if (this.bind.mode === 'include') return { current, desired: rendered, stat };
    if (current === null)
      throw new NamedConfError(
        `${this.bind.output} does not exist on ${this.name} (block mode edits an existing named.conf.options)`,
      );
    return { current, desired: spliceManagedBlock(current, rendered, `${this.name}:${this.bind.output}`), stat };
  }

  async apply(rendered: string, opts: { dryRun?: boolean } = {}): Promise<ApplyOutcome> {
    try {
      return await this.applyPinned(rendered, opts);
    } finally {
      this.session.unpin();
    }
  }

  private async applyPinned(rendered: string, opts: { dryRun?: boolean }): Promise<ApplyOutcome> {
    const start = performance.now();
    const done = (o: Omit<ApplyOutcome, 'target' | 'ms'>): ApplyOutcome => ({
      target: this.name,
      ...o,
      ms: performance.now() - start,
    });
    const s = this.session;

    try {
      await s.connect();
    } catch (err) {
      return done({ result: 'failed', stage: 'connect', error: (err as Error).message });
    }
    // One apply, one connection: if it drops, the rest fails fast (leftovers are swept later),
    // except the rollback, which reconnects.
    s.pin();

    let current: string | null;
    let desired: string;
    let like: RemoteStat | null;
    try {
      ({ current, desired, stat: like } = await this.desiredFile(rendered));
    } catch (err) {
      return done({ result: 'failed', stage: 'prepare', error: this.message(err) });
    }
    if (this.sweepNeeded || this.sweptGeneration !== s.generation) {
      this.sweptGeneration = s.generation;
      this.sweepNeeded = await this.sweep().catch(() => true);
    }

    if (current === desired) {
      if (!this.reloadPending || opts.dryRun) return done({ result: 'unchanged' });
      // An earlier apply replaced the file but never saw the reload succeed.
      const reload = await this.run(this.bind.reload);
      if (!reload.ok)
        return done({
          result: 'failed',
          stage: 'reload',
          error: `${reload.command}: ${reload.output}`,
          reload_ms: reload.ms,
        });
      this.reloadPending = false;
      return done({ result: 'applied', reload_ms: reload.ms });
    }

    const tmp = SshSession.tempName(this.bind.output);
    let renamed = false;
    let shadow: Shadow | null = null;
    let cleanup: Promise<void> | null = null;
    try {
      // The upload and the shadow of the include chain do not depend on each other: both at once.
      const [up, sh] = await Promise.allSettled([
        this.upload(tmp, desired, like, current === null),
        this.prepareShadow(tmp),
      ]);
      if (sh.status === 'fulfilled') shadow = sh.value;
      if (up.status === 'rejected') throw new StageError('write', this.message(up.reason));
      if (sh.status === 'rejected') throw new StageError('validate', this.message(sh.reason));
      const check = await this.check(shadow!);
      cleanup = shadow!.remove(); // sent along with what follows
      if (!check.ok) return done({ result: 'failed', stage: 'validate', error: `${check.command}: ${check.output}` });
      if (opts.dryRun) return done({ result: 'dry-run' });
      await s.renameOver(tmp, this.bind.output).catch((err) => {
        // Lost with the connection, the rename may have happened: then the (validated) new file
        // is live but not loaded, and the next apply, finding it unchanged, must still reload.
        if (err instanceof SshError && err.connection) this.reloadPending = true;
        throw new StageError('write', this.message(err));
      });
      renamed = true;
    } catch (err) {
      return done({
        result: 'failed',
        stage: err instanceof StageError ? err.stage : 'write',
        error: this.message(err),
      });
    } finally {
      // After a dropped connection these fail; the sweep of a later apply removes the leftovers.
      cleanup ??= shadow?.remove() ?? null;
      await Promise.all([cleanup, renamed ? null : s.unlink(tmp).catch(() => undefined)]);
    }

    this.reloadPending = true;
    const reload = await this.run(this.bind.reload);
    if (reload.ok) {
      this.reloadPending = false;
      return done({ result: 'applied', reload_ms: reload.ms });
    }
    // BIND keeps its running config after a failed reconfig: put the file back so disk matches it.
    // If the connection went down mid-reload, the reload may or may not have happened; restoring
    // the old file makes the next apply write and reload again, which converges either way.
    let rolled_back = false;
    s.unpin();
    try {
      await this.writeAtomic(this.bind.output, current ?? '');
      rolled_back = true;
      this.reloadPending = false;
    } catch {
      // reported through rolled_back: false; reloadPending makes the next apply reload
    }
    return done({
      result: 'failed',
      stage: 'reload',
      error: `${reload.command}: ${reload.output}`,
      rolled_back,
      reload_ms: reload.ms,
    });
  }

  /** Runs argv on the target; a command that cannot even start is reported like a failed one. */
  private async run(argv: string[], cwd?: string): Promise<ExecResult> {
    try {
      return await this.session.exec(argv, { timeoutMs: this.bind.command_timeout, cwd });
    } catch (err) {
      return {
        ok: false,
        command: argv.join(' '),
        output: this.message(err),
        exitCode: null,
        signal: null,
        lost: true,
        timedOut: false,
        ms: 0,
      };
    }
  }

  /** Temp file beside the target, then posix-rename over it; reconnects once if needed. */
  private async writeAtomic(file: string, content: string): Promise<void> {
    const s = this.session;
    const like = await s.stat(file);
    const tmp = SshSession.tempName(file);
    try {
      await s.writeNew(tmp, content, { like });
      await s.renameOver(tmp, file);
    } catch (err) {
      await s.unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Uploads the candidate beside the output; the first write of an include file creates its directory. */
  private async upload(tmp: string, content: string, like: RemoteStat | null, mayCreateDir: boolean): Promise<void> {
    const s = this.session;
    await s.writeNew(tmp, content, { like }).catch(async (err) => {
      if (!(mayCreateDir && err instanceof SftpStatusError && err.status === NO_SUCH_FILE)) throw err;
      await s.mkdirp(path.posix.dirname(this.bind.output));
      await s.writeNew(tmp, content, { like });
    });
  }

  /**
   * A shadow of the remote include chain whose copy of the output is `candidate`, in a fresh
   * private directory under remoteTmp (as the local target does under the local tmpdir).
   */
  private async prepareShadow(candidate: string): Promise<Shadow> {
    const s = this.session;
    const root = this.root;
    const live = this.bind.output;
    const originals = new Map<string, string>([[candidate, live]]);
    if (root === live) return { root: candidate, originals, remove: () => Promise.resolve() };
    let dir: Promise<string> | null = null;
    const written: string[] = [];
    const remove = async () => {
      const d = await dir?.catch(() => null);
      if (d) await s.removeTree(d, written).catch(() => undefined);
    };
    const files: ConfFiles = {
      read: (file) =>
        s.readFile(file).catch((err) => {
          if (err instanceof SshError && err.connection) throw err;
          return null;
        }),
      writeShadow: async (name, text, original) => {
        dir ??= s.mkdtemp(`${this.remoteTmp}/${SHADOW_PREFIX}`);
        const copy = `${await dir}/${name}`;
        written.push(name);
        originals.set(copy, original);
        await s.writeNew(copy, text, { sync: false }); // read once by named-checkconf, then removed
        return copy;
      },
    };
    try {
      const shadowRoot = await shadowChain(files, root, live, candidate);
      if (shadowRoot === null) throw new StageError('validate', `${this.name}: ${notIncludedMessage(root, live)}`);
      return { root: shadowRoot, originals, remove };
    } catch (err) {
      await remove();
      throw err;
    }
  }

  /** The remote checkconf on the shadow; its messages name the operator's files, not our copies. */
  private async check(shadow: Shadow): Promise<ExecResult> {
    const r = await this.run(checkconfFor(this.bind.checkconf, shadow.root), path.posix.dirname(this.root));
    let output = r.output;
    // longest first: a temp file's name contains the live file's
    for (const [copy, original] of [...shadow.originals].sort((x, y) => y[0].length - x[0].length))
      output = output.split(copy).join(original);
    return { ...r, command: this.bind.checkconf.join(' '), output };
  }

  /** Removes our leftovers of applies that a dropped connection interrupted; true if young ones remain. */
  private async sweep(): Promise<boolean> {
    const s = this.session;
    const cutoff = Date.now() / 1000 - this.staleAfterMs / 1000;
    const dir = path.posix.dirname(this.bind.output);
    const tempPrefix = `.${path.posix.basename(this.bind.output)}.nat64-health-`;
    let young = false;
    for (const e of await s.readdir(dir).catch(() => [])) {
      if (!e.name.startsWith(tempPrefix) || e.isDirectory) continue;
      if (e.mtime <= cutoff) await s.unlink(`${dir}/${e.name}`).catch(() => undefined);
      else young = true;
    }
    for (const e of await s.readdir(this.remoteTmp).catch(() => [])) {
      if (!e.name.startsWith(SHADOW_PREFIX) || !e.isDirectory) continue;
      if (e.mtime <= cutoff) await s.removeTree(`${this.remoteTmp}/${e.name}`).catch(() => undefined);
      else young = true;
    }
    return young;
  }

  private message(err: unknown): string {
    const m = err instanceof Error ? err.message : String(err);
    return m.startsWith(`${this.name}:`) ? m.slice(this.name.length + 1).trim() : m;
  }

  /**
   * `targets test`: connects (host key), checks the SFTP extensions, that the output's directory
   * (and file) is writable, that named.conf includes the output, that checkconf passes on the live
   * configuration and that the reload command can run. Changes nothing on the target.
   */
  async test(): Promise<TargetCheck[]> {
    const s = this.session;
    const checks: TargetCheck[] = [];
    const add = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });
    try {
      await s.connect();
      const k = s.hostKey;
      add(
        'connect',
        true,
        `${s.ep.user}@${s.ep.host} port ${s.ep.port}; host key ${k ? `${k.type} ${k.fingerprint} matches ${s.ep.known_hosts} line ${k.known_hosts_line}` : 'verified'}`,
      );
    } catch (err) {
      add('connect', false, this.message(err));
      return checks;
    }
    try {
      const ext = await s.extensions;
      const missing = ['posix-rename@openssh.com'].filter((e) => !ext[e]);
      add(
        'sftp',
        missing.length === 0,
        missing.length
          ? `SFTP server lacks ${missing.join(', ')}: no atomic replace possible`
          : `SFTP with posix-rename${ext['fsync@openssh.com'] ? ' and fsync' : ''}`,
      );

      const dir = path.posix.dirname(this.bind.output);
      const writable = await this.run(['test', '-d', dir, '-a', '-w', dir]);
      const fileSt = await s.stat(this.bind.output);
      const fileOk =
        fileSt === null || this.bind.mode === 'include' || (await this.run(['test', '-w', this.bind.output])).ok;
      if (!writable.ok) {
        const parentExists = (await s.stat(dir)) !== null;
        add(
          'output',
          false,
          parentExists
            ? `${dir} is not writable by ${s.ep.user}`
            : `${dir} does not exist (the first apply creates it only if its parent is writable)`,
        );
      } else if (this.bind.mode === 'block' && fileSt === null) {
        add('output', false, `${this.bind.output} does not exist (block mode edits an existing file)`);
      } else {
        add(
          'output',
          fileOk,
          fileOk
            ? `${this.bind.output}: directory writable${fileSt ? '' : ' (file not there yet)'}`
            : `${this.bind.output} is not writable`,
        );
      }

      const root = this.root;
      if (root !== this.bind.output) {
        const chain = await shadowChain(
          { read: (f) => s.readFile(f).catch(() => null), writeShadow: (n) => Promise.resolve(n) },
          root,
          this.bind.output,
          this.bind.output,
        );
        add(
          'include',
          chain !== null,
          chain !== null ? `${root} includes ${this.bind.output}` : notIncludedMessage(root, this.bind.output),
        );
      }

      const cc = await this.run(this.bind.checkconf, path.posix.dirname(root));
      add('checkconf', cc.ok, cc.ok ? `${cc.command}: live configuration passes` : `${cc.command}: ${cc.output}`);

      const probe = reloadProbe(this.bind.reload);
      const r = await this.run(probe.argv);
      add('reload', r.ok, r.ok ? `${probe.describe}` : `${r.command}: ${r.output}`);
    } catch (err) {
      add('error', false, this.message(err));
    }
    return checks;
  }

  close(): Promise<void> {
    return this.session.close();
  }
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
