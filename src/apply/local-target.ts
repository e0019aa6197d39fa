// The local BIND: render -> validate -> write -> reload, with rollback. The live file never holds
// text that failed named-checkconf, and a failed reload puts the previous file back.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { checkCandidate, NotIncludedError } from './checkconf.js';
import { runCommand } from './commands.js';
import { readIfExists, renameOver, writeFileAtomic, writeTempBeside } from './files.js';
import { NamedConfError, spliceManagedBlock } from './named-conf.js';

/** connect: reaching a remote target (SSH) */
export type ApplyStage = 'connect' | 'prepare' | 'validate' | 'write' | 'reload';

export interface ApplyOutcome {
  target: string;
  result: 'unchanged' | 'applied' | 'failed' | 'dry-run';
  stage?: ApplyStage;
  error?: string;
  /** the previous file was restored after a failed reload */
  rolled_back?: boolean;
  ms: number;
  reload_ms?: number;
}

export interface BindTarget {
  readonly name: string;
  /** applies cross the network (SSH): the daemon runs them without holding its rounds for them */
  readonly background?: boolean;
  apply(rendered: string, opts?: { dryRun?: boolean }): Promise<ApplyOutcome>;
  close(): Promise<void>;
}

export type BindSettings = Config['bind'];

export class LocalBindTarget implements BindTarget {
  /** the live file may hold text BIND has not loaded (a reload failed and so did the rollback) */
  private reloadPending = false;

  constructor(
    private readonly bind: BindSettings,
    readonly name = 'local',
  ) {}

  /** The whole output file as it should be for this rendered text (block mode splices the block in). */
  async desiredFile(rendered: string): Promise<{ current: string | null; desired: string }> {
    const current = await readIfExists(this.bind.output);
    if (this.bind.mode === 'include') return { current, desired: rendered };
    if (current === null)
      throw new NamedConfError(`${this.bind.output} does not exist (block mode edits an existing named.conf.options)`);
    return { current, desired: spliceManagedBlock(current, rendered, this.bind.output) };
  }

  async apply(rendered: string, opts: { dryRun?: boolean } = {}): Promise<ApplyOutcome> {
    const start = performance.now();
    const done = (o: Omit<ApplyOutcome, 'target' | 'ms'>): ApplyOutcome => ({
      target: this.name,
      ...o,
      ms: performance.now() - start,
    });
    let current: string | null;
    let desired: string;
    try {
      ({ current, desired } = await this.desiredFile(rendered));
    } catch (err) {
      return done({ result: 'failed', stage: 'prepare', error: (err as Error).message });
    }
    if (current === desired) {
      if (!this.reloadPending || opts.dryRun) return done({ result: 'unchanged' });
      // An earlier apply left the new file live without a successful reload: reload now.
      const reload = await runCommand(this.bind.reload, this.bind.command_timeout);
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

    let tmp: string | null = null;
    try {
      await fs.mkdir(path.dirname(this.bind.output), { recursive: true });
      tmp = await writeTempBeside(this.bind.output, desired);
      const check = await checkCandidate(this.bind.checkconf, this.bind.output, tmp, this.bind.command_timeout);
      if (!check.ok) return done({ result: 'failed', stage: 'validate', error: `${check.command}: ${check.output}` });
      if (opts.dryRun) return done({ result: 'dry-run' });
      await renameOver(tmp, this.bind.output);
    } catch (err) {
      const stage = err instanceof NotIncludedError ? 'validate' : 'write';
      return done({ result: 'failed', stage, error: (err as Error).message });
    } finally {
      if (tmp) await fs.rm(tmp, { force: true });
    }

    this.reloadPending = true;
    const reload = await runCommand(this.bind.reload, this.bind.command_timeout);
    if (reload.ok) {
      this.reloadPending = false;
      return done({ result: 'applied', reload_ms: reload.ms });
    }
    // BIND keeps its running config after a failed reconfig; put the file back so disk matches it.
    let rolled_back = false;
    try {
      // No previous file: leave an empty one (zero dns64 blocks is valid) so BIND can still start.
      await writeFileAtomic(this.bind.output, current ?? '');
      rolled_back = true;
      this.reloadPending = false;
    } catch {
      // reported below through rolled_back: false; the next apply reloads even if the text matches
    }
    return done({
      result: 'failed',
      stage: 'reload',
      error: `${reload.command}: ${reload.output}`,
      rolled_back,
      reload_ms: reload.ms,
    });
  }

  async close(): Promise<void> {}
}
