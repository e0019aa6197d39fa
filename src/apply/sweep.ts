// Our leftovers of interrupted applies (temp files beside the output, shadow directories) are
// removed once they are older than `staleAfterMs`: after each (re)connect, and again at the next
// apply while young ones remain (another apply may still be using them). A sole writer (the
// daemon holding the output's lock, daemon/writer-locks.ts) knows the temp files beside the
// output are leftovers whatever their age: a kill -9 in the middle of an apply leaves none behind
// after the next start.
import path from 'node:path';
import { tempPrefixFor } from '../lib/files.js';
import { SHADOW_PREFIX, type Host } from './host.js';

export class Sweeper {
  /** the host connection last swept */
  private sweptGeneration = -1;
  private sweepNeeded = false;

  constructor(
    private readonly host: Host,
    private readonly output: string,
    private readonly tmpDir: string,
    private readonly staleAfterMs: number,
    private readonly soleWriter = false,
  ) {}

  /** Sweeps when due (a new connection, or young leftovers last time); never fails an apply. */
  async sweepIfDue(): Promise<void> {
    if (!this.sweepNeeded && this.sweptGeneration === this.host.generation) return;
    this.sweptGeneration = this.host.generation;
    this.sweepNeeded = await this.sweep().catch(() => true);
  }

  /** Removes the stale leftovers; true if young ones remain (look again next time). */
  private async sweep(): Promise<boolean> {
    const host = this.host;
    const cutoff = Date.now() / 1000 - this.staleAfterMs / 1000;
    const dir = path.posix.dirname(this.output);
    const tempPrefix = tempPrefixFor(this.output);
    let young = false;
    for (const e of await host.readdir(dir, tempPrefix).catch(() => [])) {
      if (e.isDirectory) continue;
      if (this.soleWriter || e.mtime <= cutoff) await host.unlink(`${dir}/${e.name}`).catch(() => undefined);
      else young = true;
    }
    for (const e of await host.readdir(this.tmpDir, SHADOW_PREFIX).catch(() => [])) {
      if (!e.isDirectory) continue;
      if (e.mtime <= cutoff) await host.removeTree(`${this.tmpDir}/${e.name}`).catch(() => undefined);
      else young = true;
    }
    return young;
  }
}
