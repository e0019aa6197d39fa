// Re-reading the configuration: the watcher of its files (SIGHUP works regardless) and the load
// itself, which keeps the previous configuration when the new one is rejected.
import { watch, type FSWatcher } from 'chokidar';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type Config } from '../config/load.js';
import type { Logger } from '../lib/log.js';
import type { StateSnapshot } from './state-file.js';

export type ConfigReload = StateSnapshot['last_config_reload'];

export class ConfigReloader {
  private watcher: FSWatcher | null = null;
  private watched: readonly string[] = [];
  /** the last reload: when, and whether it was taken (the state file's last_config_reload) */
  last: ConfigReload = null;

  constructor(
    /** null: the embedded default config (nothing to watch or re-read from a file) */
    private readonly configPath: string | null,
    private readonly log: Logger,
    private readonly now: () => number,
    /** a watched file changed (the daemon reloads between rounds) */
    private readonly changed: () => void,
    /** watch the files at all (tests and one-shot runs do not) */
    private readonly enabled: boolean,
  ) {}

  /** Watches `files` (the config's `watched`); a changed list replaces the watcher. */
  watch(files: readonly string[]): void {
    if (!this.enabled || (this.watcher && files.join('\n') === this.watched.join('\n'))) return;
    void this.watcher?.close();
    this.watcher = null;
    this.watched = [...files];
    if (files.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    // Editors and config management replace files in several steps: wait for them to settle.
    this.watcher = watch([...files], {
      ignoreInitial: true,
      awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 },
    });
    this.watcher.on('all', (event, file) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.log.info('configuration file changed: re-reading', { file, event });
        this.changed();
      }, 100);
    });
    this.watcher.on('error', (err) => this.log.warn('config watcher error', { error: String(err) }));
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
  }

  /**
   * The configuration as the files say now, or null (logged) when it is rejected: when it does not
   * load, or `take` throws (it cannot be taken into use: another daemon holds a lock it needs).
   */
  load(take?: (next: Config) => void): Config | null {
    const at = new Date(this.now()).toISOString();
    let next: Config;
    try {
      next = loadConfig(this.configPath);
      take?.(next);
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : String(err);
      this.log.error('new configuration rejected; still running on the previous one', { error: message });
      this.last = { at, ok: false, error: message };
      return null;
    }
    for (const w of next.warnings) this.log.warn(w);
    this.last = { at, ok: true };
    return next;
  }
}
