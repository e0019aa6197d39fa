// The write: the output file as it should be for a rendered text (block mode splices the managed
// block into the operator's file), the candidate written beside it, and the atomic replacement.
import path from 'node:path';
import { tempNameBeside } from '../lib/files.js';
import { managedBlockOf, NamedConfError, spliceManagedBlock } from './bind/named-conf.js';
import type { Host, HostStat } from './host.js';
import type { ApplyOutcome, BindSettings, Drift } from './target.js';

export class OutputFile {
  /** the output's stamp when it last held what `rendered` makes of it (drift: unchanged since) */
  private inPlace: { stamp: string; rendered: string } | null = null;

  constructor(
    private readonly host: Host,
    private readonly bind: Pick<BindSettings, 'mode' | 'output'>,
    /** a file's name in messages (a remote one carries the target's name) */
    private readonly label: (file: string) => string,
  ) {}

  /** The whole output file as it should be for this rendered text, and as it is now. */
  async desired(rendered: string): Promise<{ current: Buffer | null; desired: Buffer; stat: HostStat | null }> {
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

  /**
   * How the output differs from what the rendered text makes of it, or null when it holds just that.
   * Only what is ours counts: in block mode an edit outside the managed block is the operator's.
   */
  async drift(rendered: string): Promise<Drift | null> {
    // A stat each round; the file is read only when it changed since it was last found in place.
    const before = await this.host.stat(this.bind.output);
    const same = this.inPlace;
    if (before?.stamp !== undefined && same?.stamp === before.stamp && same.rendered === rendered) return null;
    const { current, desired } = await this.desired(rendered);
    if (current !== null && current.equals(desired)) {
      // the stamp from before the read: a write since then changes it, and the next look reads
      this.inPlace = before?.stamp !== undefined ? { stamp: before.stamp, rendered } : null;
      return null;
    }
    this.inPlace = null;
    const file = this.label(this.bind.output);
    if (current === null) return { file, detail: 'the file was removed' };
    if (this.bind.mode === 'block') {
      const block = managedBlockOf(current.toString('latin1'));
      return { file, detail: block === null ? 'the managed block was removed' : 'the managed block was edited' };
    }
    if (current.length === 0) return { file, detail: 'the file is empty' };
    if (current.length < desired.length && desired.subarray(0, current.length).equals(current))
      return { file, detail: `the file was truncated to ${current.length} of ${desired.length} bytes` };
    return { file, detail: `the file was edited (${lineChanges(current, desired)})` };
  }

  /**
   * What the apply history diffs: the whole output in include mode; in block mode only the managed
   * block, since nothing else of named.conf.options changes and the rest is the operator's.
   */
  historyText(current: Buffer | null, desired: Buffer): NonNullable<ApplyOutcome['output']> {
    const file = this.label(this.bind.output);
    if (this.bind.mode === 'include') return { file, before: current, after: desired };
    const block = (b: Buffer) => {
      // the lines between the marker lines, as spliceManagedBlock writes them
      const inner = managedBlockOf(b.toString('latin1')) ?? '';
      return Buffer.from(inner.slice(inner.indexOf('\n') + 1, inner.lastIndexOf('\n') + 1), 'latin1');
    };
    return { file: `${file} (managed block)`, before: current && block(current), after: block(desired) };
  }

  /** Writes the candidate beside the output; the first write of an include file creates its directory. */
  async upload(tmp: string, content: Buffer, like: HostStat | null, mayCreateDir: boolean) {
    const host = this.host;
    return host.writeNew(tmp, content, { like }).catch(async (err: unknown) => {
      if (!(mayCreateDir && host.notFound(err))) throw err;
      await host.mkdirp(path.posix.dirname(this.bind.output));
      return host.writeNew(tmp, content, { like });
    });
  }

  /** Temp file beside the target, then rename over it (the rollback). */
  async writeAtomic(file: string, content: Buffer): Promise<void> {
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
}

/** "2 lines added, 1 removed", from what was written to what is there */
function lineChanges(current: Buffer, desired: Buffer): string {
  const lines = (b: Buffer) => b.toString('latin1').split('\n');
  const want = new Map<string, number>();
  for (const l of lines(desired)) want.set(l, (want.get(l) ?? 0) + 1);
  let added = 0;
  for (const l of lines(current)) {
    const n = want.get(l) ?? 0;
    if (n > 0) want.set(l, n - 1);
    else added++;
  }
  const removed = [...want.values()].reduce((a, b) => a + b, 0);
  return `${added} line${added === 1 ? '' : 's'} added, ${removed} removed`;
}
