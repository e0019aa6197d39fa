// The shadow validation: named-checkconf never sees the live files change. The include chain from
// named.conf down to the output is copied into a fresh private directory, with the candidate in the
// output's place, and checked there; its messages name the operator's files, not our copies.
import { checkconfArgv, onHost, type CheckconfArgs } from '../config/checkconf-args.js';
import {
  checkconfCwd,
  includesFile,
  nameOriginals,
  notIncludedMessage,
  shadowChain,
  type ChainFiles,
  type Shadow,
} from './bind/include-chain.js';
import { SHADOW_PREFIX, type ExecResult, type Host } from './host.js';
import type { BindSettings } from './target.js';

export interface ShadowCopy {
  shadow: Shadow;
  remove(): Promise<void>;
}

export class ShadowCheck {
  constructor(
    private readonly host: Host,
    private readonly bind: Pick<BindSettings, 'output' | 'checkconf'>,
    private readonly args: CheckconfArgs,
    /** where the shadow directories go */
    private readonly tmpDir: string,
    private readonly label: (file: string) => string,
    private readonly run: (argv: string[], cwd?: string) => Promise<ExecResult>,
  ) {}

  /** named.conf as a path on the host */
  get root(): string {
    return onHost(this.args, this.args.namedConf);
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
  async copy(candidate: string): Promise<ShadowCopy> {
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
      if (shadow === null) throw new Error(notIncludedMessage(this.label(this.root), this.bind.output));
      return { shadow, remove };
    } catch (err) {
      await remove();
      throw err;
    }
  }

  /** checkconf on the shadow; its messages name the operator's files, not our copies. */
  async check(shadow: Shadow): Promise<ExecResult> {
    const r = await this.run(checkconfArgv(this.args, shadow.root), onHost(this.args, checkconfCwd(this.args)));
    return { ...r, command: this.bind.checkconf.join(' '), output: nameOriginals(r.output, shadow.originals) };
  }

  /** Does the configuration read `file`? */
  includes(file: string): Promise<boolean> {
    return includesFile(this.chainFiles(), this.args, file);
  }
}
