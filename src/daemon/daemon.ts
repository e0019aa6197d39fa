// The long-running daemon: the imperative shell around decide(). It owns the timers, the watcher,
// the state file and the one apply at a time. Signals are the CLI's: it calls reload() and stop().
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'chokidar';
import { loadConfig, type Config } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { lossRatio, type PrefixHealth } from '../health/state.js';
import { errorDetail } from '../lib/format.js';
import type { Logger } from '../lib/log.js';
import { runRound, type RoundOptions, type RoundResult } from '../probe/round.js';
import { EMPTY_SELECTION, inMaintenance, rankScore, type SelectionState } from '../select/select.js';
import type { ApplyTarget } from '../apply/pipeline.js';
import { makeTarget, outputKey, targetKey, targetsOf } from '../apply/fleet.js';
import { TargetRunner, type AppliedRecord, type ApplyReport, type ServedChange } from '../apply/runner.js';
import { historyDir } from '../apply/history.js';
import { ApplyHistoryStore } from '../apply/history-store.js';
import { Notifier } from './notify.js';
import { setCondition } from '../core/condition.js';
import { carryOverHealth, decide, decideConfirmation, nextDelay, type Decision } from '../core/step.js';
import { NO_TARGET_FAULTS, targetFaultNotice, type TargetFaultMemo } from './notices.js';
import { Discovery } from '../discover/discover.js';
import {
  maintenanceFile,
  maintenanceInForce,
  maintenanceStatus,
  readMaintenance,
  withMaintenanceLock,
  writeMaintenance,
  type MaintenanceEntry,
} from './maintenance.js';
import {
  readState,
  restoredSelection,
  stateWriteDue,
  writeState,
  type StateSnapshot,
  type StateWriteMemo,
} from './state-file.js';

export interface DaemonHooks {
  /** after the first completed round (systemd READY=1) */
  ready?(): void;
  /** a one-line summary after each round (systemd STATUS=) */
  status?(text: string): void;
  /** every snapshot, after it is written (metrics, status page) */
  snapshot?(snapshot: StateSnapshot, decision: Decision | null): void;
}

/** One DaemonHooks that calls each given set in turn; a throwing hook does not stop the others. */
export function combineHooks(...sets: Array<DaemonHooks | null | undefined>): DaemonHooks {
  const list = sets.filter((h): h is DaemonHooks => !!h);
  const each = <K extends keyof DaemonHooks>(key: K, args: Parameters<NonNullable<DaemonHooks[K]>>) => {
    let first: unknown;
    for (const h of list) {
      try {
        (h[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first instanceof Error ? first : new Error(`hook failed: ${JSON.stringify(first)}`);
  };
  return {
    ready: () => each('ready', []),
    status: (text) => each('status', [text]),
    snapshot: (snapshot, decision) => each('snapshot', [snapshot, decision]),
  };
}

export interface DaemonOptions {
  /** null: the embedded default config */
  configPath: string | null;
  config: Config;
  log: Logger;
  dryRun?: boolean;
  /** watch the config files for changes (SIGHUP works regardless) */
  watch?: boolean;
  hooks?: DaemonHooks;
  /** the targets for a config (default: from `targets:`); a target handed back again keeps its runner */
  makeTarget?: (config: Config) => ApplyTarget[];
  /** runs one probe round (default: the real probers; tests hand in canned outcomes) */
  prober?: Prober;
  now?: () => number;
  /** every finished notify hook (tests) */
  hookDone?: ConstructorParameters<typeof Notifier>[2];
  /** RFC 7050 discovery (default: the real query); tests hand in one with a fake server */
  discovery?: Discovery;
}

export type Prober = (
  prefixes: Config['prefixes'],
  probes: Config['probes'],
  opts: RoundOptions,
) => Promise<RoundResult>;

const HISTORY = 50;
/** unchanged snapshots are written at most this often (stateWriteDue) */
const STATE_HEARTBEAT_MS = 1000;
/** on stop, how long applies in flight (SSH) may take to finish */
const STOP_WAIT_MS = 20_000;
/** how often the maintenance file is looked at (see watchMaintenance) */
const MAINTENANCE_POLL_MS = 1000;

export class Daemon {
  /** as loaded: the configured prefixes only */
  private loaded: Config;
  /** what rounds work on: the configured prefixes and the discovered ones */
  private config: Config;
  private readonly discovery: Discovery;
  private discovering: Promise<void> | null = null;
  private discoveryChanged = false;
  private health = new Map<string, PrefixHealth>();
  private selection: SelectionState = EMPTY_SELECTION;
  private runners: TargetRunner[];
  /** runners replaced by a config reload whose apply in flight has not ended yet */
  private retiring = new Set<TargetRunner>();
  private snapshotQueue: Promise<void> = Promise.resolve();
  private applies: AppliedRecord[] = [];
  private stateWritten: StateWriteMemo | null = null;
  private round = 0;
  private lastRoundMs: number | null = null;
  private lastDecision: Decision | null = null;
  /** decisions since the last snapshot: a round's and its burst's (the round's own snapshot is skipped) */
  private unobserved: Decision[] = [];
  private lastConfigReload: StateSnapshot['last_config_reload'] = null;
  private failsafeLoggedAt = 0;
  private targetFaults: TargetFaultMemo = NO_TARGET_FAULTS;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private watcher: FSWatcher | null = null;
  private maintenanceWatcher: FSWatcher | null = null;
  /** the last good maintenance file's entries (a malformed file leaves them as they are) */
  private maintenance = new Map<string, MaintenanceEntry>();
  private maintenanceText: string | null = null;
  private maintenanceError: string | null = null;
  private pruneError: string | null = null;
  /** the prefixes whose maintenance held in the last round (to log an `until` that has come) */
  private heldLastRound = new Set<string>();
  /** the watcher saw the file change since the loop last read it */
  private maintenanceChanged = false;
  private loopDone: Promise<void> | null = null;
  private reloadPending = false;
  private readonly notifier: Notifier;
  /** the last applies per target with their diffs (history/ beside the state file) */
  readonly applyHistory: ApplyHistoryStore;
  private readonly now: () => number;
  private readonly prober: Prober;
  private readonly log: Logger;

  constructor(private readonly opts: DaemonOptions) {
    this.loaded = this.config = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.discovery = opts.discovery ?? new Discovery(this.log, this.now);
    this.prober = opts.prober ?? runRound;
    this.notifier = new Notifier(this.config.hooks, this.log, opts.hookDone);
    this.applyHistory = new ApplyHistoryStore(this.log);
    this.runners = this.makeRunners(this.config, []);
    this.health = carryOverHealth(this.config, this.health);
  }

  /**
   * The runners for a config: a target whose settings did not change keeps its runner (backoff,
   * served text, pending reload); a new one waits for its predecessor's apply in flight and, when
   * it writes the same file, inherits its pending reload.
   */
  private makeRunners(config: Config, previous: TargetRunner[]): TargetRunner[] {
    const plan = this.opts.makeTarget
      ? this.opts.makeTarget(config).map((t) => ({ key: t, out: t.name, make: () => t }))
      : targetsOf(config).map((t) => ({
          key: targetKey(config, t),
          out: outputKey(config, t),
          make: () => makeTarget(config, t),
        }));
    const left = new Set(previous);
    const runners = plan.map((p) => {
      const same = previous.find((r) => left.has(r) && r.key === p.key);
      if (same) {
        left.delete(same);
        return same;
      }
      const before = previous.find((r) => left.has(r) && r.outputKey === p.out);
      const target = p.make();
      if (before) {
        left.delete(before);
        this.retire(before);
      }
      const after = before
        ? before.idle().then(() => {
            if (before.target.reloadPending) target.reloadPending = true;
          })
        : undefined;
      return new TargetRunner(target, p.key, p.out, this.runnerHooks(), after);
    });
    for (const r of left) this.retire(r);
    return runners;
  }

  private notifyChange(target: string, c: ServedChange) {
    this.notifier.fire('on_change', {
      document: { event: 'change', target, ...c },
      env: {
        NAT64_HEALTH_TARGET: target,
        NAT64_HEALTH_ACTIVE: c.new.join(' '),
        NAT64_HEALTH_OLD: c.old?.join(' ') ?? '',
        NAT64_HEALTH_DRAINING: c.draining.join(' '),
        NAT64_HEALTH_REASON: c.reason,
      },
    });
  }

  /** A runner left out of the config: it finishes its apply in flight, then its target is closed. */
  private retire(r: TargetRunner) {
    this.retiring.add(r);
    void r
      .stop()
      .then(() => r.target.close())
      .finally(() => this.retiring.delete(r));
  }

  private runnerHooks() {
    return {
      log: this.log,
      now: this.now,
      dryRun: !!this.opts.dryRun,
      fields: () => ({ active: this.selection.active, draining: Object.keys(this.selection.draining) }),
      recorded: (runner: TargetRunner, record: AppliedRecord | null) => {
        if (record) this.applies = [record, ...this.applies].slice(0, HISTORY);
        // background applies and verifications publish when they end; rounds write their own snapshot
        if (runner.background) void this.queueSnapshot(this.now());
      },
      changed: (runner: TargetRunner, change: ServedChange) => this.notifyChange(runner.name, change),
      // a history that cannot be read or written is logged by the store and never stops an apply
      applied: (_runner: TargetRunner, report: ApplyReport) =>
        this.applyHistory.record(historyDir(this.config.state_file), this.config.history.keep, report),
    };
  }

  async start(): Promise<void> {
    for (const w of this.config.warnings) this.log.warn(w);
    this.log.info('starting', {
      config: this.config.source,
      prefixes: this.config.prefixes.length,
      probes: this.config.probes.length,
      dry_run: !!this.opts.dryRun,
    });
    if (this.opts.watch !== false) this.startWatcher();
    this.watchMaintenance();
    const previous = await this.readPreviousState();
    // the first round (and the restored selection) already knows the discovered prefixes
    const dropped = this.discovery.restore(previous?.discovery, this.loaded.discover);
    if (dropped.length > 0)
      this.log.warn('state file: dropped what is not a well-formed discovery', {
        file: this.config.state_file,
        dropped,
      });
    await this.discovery.refresh(this.loaded.discover);
    this.useDiscovered();
    if (previous) this.restoreSelection(previous);
    await this.refreshMaintenance();
    await this.useHistory();
    this.loopDone = this.loop();
    return this.loopDone;
  }

  private async readPreviousState(): Promise<StateSnapshot | null> {
    try {
      return await readState(this.config.state_file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.warn('cannot use the state file of the previous run; starting afresh', {
          file: this.config.state_file,
          error: (err as Error).message,
        });
      return null;
    }
  }

  /**
   * After a restart, a crash or a reboot the previous run's state file (the unit's StateDirectory=)
   * says which set BIND serves: start from it, so a first round that fails everywhere keeps that
   * set (the fail-safe) instead of falling back to the static one, and drains continue.
   */
  private restoreSelection(previous: StateSnapshot) {
    // Drains go on, also those of prefixes removed from the config (their reverse lookups still matter).
    const { active, draining, dropped } = restoredSelection(
      previous,
      new Set(this.config.prefixes.map((p) => p.id)),
      this.now(),
    );
    if (dropped.length > 0)
      this.log.warn('state file: dropped or corrected what is not a well-formed prefix or time', {
        file: this.config.state_file,
        dropped,
      });
    if (active.length === 0 && Object.keys(draining).length === 0) return;
    this.selection = { active, draining, challengers: {}, failsafe: false };
    this.log.info('restored the previous active set from the state file', {
      file: this.config.state_file,
      active,
      draining: Object.keys(draining),
    });
  }

  /** The configured targets' apply histories, read before their first apply (a bad file is set aside). */
  private useHistory(): Promise<void> {
    return this.applyHistory.use(
      historyDir(this.config.state_file),
      this.runners.map((r) => r.name),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.watcher?.close();
    this.watcher = null;
    await this.maintenanceWatcher?.close();
    this.maintenanceWatcher = null;
    await this.loopDone;
    await this.discovering;
    // Let applies in flight (SSH) finish, so no target is left with a new file and no reload.
    const all = [...this.runners, ...this.retiring];
    await Promise.race([
      Promise.all(all.map((r) => r.stop())),
      new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref()),
    ]);
    await Promise.all(this.runners.map((r) => r.target.close()));
    await this.applyHistory.idle();
    // the hooks of the last applies (on_change) and health changes: bounded by hooks.timeout
    await this.notifier.stop();
  }

  /** Re-read the configuration before the next round (SIGHUP, `systemctl reload`). */
  reload(): void {
    this.requestReload();
  }

  private startWatcher() {
    const files = this.config.watched;
    if (files.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    // Editors and config management replace files in several steps: wait for them to settle.
    this.watcher = watch(files, {
      ignoreInitial: true,
      awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 },
    });
    this.watcher.on('all', (event, file) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.log.info('configuration file changed: re-reading', { file, event });
        this.requestReload();
      }, 100);
    });
    this.watcher.on('error', (err) => this.log.warn('config watcher error', { error: String(err) }));
  }

  /**
   * `nat64-health maintenance` writes the file: the next round starts within a second and takes it
   * into account. Polled (one stat a second), not watched: the file lives beside the state file,
   * which is rewritten about once a second, and watching a file that may not exist means watching
   * its folder, whose every change chokidar answers by listing and stat-ing the folder (~15% of the
   * fast profile's CPU, docs/benchmarks.md). The command writes it atomically (rename).
   */
  private watchMaintenance() {
    const file = maintenanceFile(this.config.state_file);
    this.maintenanceWatcher = watch(file, { ignoreInitial: true, usePolling: true, interval: MAINTENANCE_POLL_MS });
    this.maintenanceWatcher.on('all', () => {
      this.maintenanceChanged = true;
      this.wakeUp?.();
    });
    this.maintenanceWatcher.on('error', (err) => this.log.warn('maintenance watcher error', { error: String(err) }));
  }

  /**
   * Re-reads the maintenance file (every round: cheap, and it also covers a missed watcher event).
   * A malformed file is logged once and changes nothing: the last good maintenance stays.
   */
  private async refreshMaintenance() {
    const file = maintenanceFile(this.config.state_file);
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text === this.maintenanceText) return;
    let next: Map<string, MaintenanceEntry>;
    try {
      next = await readMaintenance(file);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.maintenanceError)
        this.log.error('maintenance file rejected; keeping the previous maintenance', { file, error: message });
      this.maintenanceError = message;
      return;
    }
    this.maintenanceText = text;
    this.maintenanceError = null;
    for (const [id, e] of next)
      if (!this.maintenance.has(id))
        this.log.info(`prefix ${id} put into maintenance`, {
          reason: e.reason,
          until: e.until === null ? null : new Date(e.until).toISOString(),
          configured: this.config.prefixes.some((p) => p.id === id),
        });
    const now = this.now();
    for (const [id, e] of this.maintenance)
      // an entry that had ended was dropped from the file (pruneMaintenance): its end is logged already
      if (!next.has(id) && inMaintenance(e, now)) this.log.info(`prefix ${id} taken out of maintenance`);
    this.maintenance = next;
  }

  /**
   * Drops the entries whose `until` has come from the file, so it holds only maintenance in force.
   * Under the file's lock and from the file as it is now (not this.maintenance), so a change the
   * CLI just made is kept; when the CLI holds the lock, a later round tries again.
   */
  private async pruneMaintenance() {
    const now = this.now();
    if (this.maintenanceError !== null || [...this.maintenance.values()].every((e) => inMaintenance(e, now))) return;
    const file = maintenanceFile(this.config.state_file);
    try {
      const r = await withMaintenanceLock(file, 0, async () => {
        const set = await readMaintenance(file);
        const ended = [...set].filter(([, e]) => !inMaintenance(e, now)).map(([id]) => id);
        if (ended.length > 0) await writeMaintenance(file, set, now);
        return ended;
      });
      if (r.ok && r.value.length > 0)
        this.log.info('maintenance file: dropped the ended entries', { file, ended: r.value });
      this.pruneError = null;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.pruneError)
        this.log.warn('cannot drop the ended entries from the maintenance file', { file, error: message });
      this.pruneError = message;
    }
  }

  /** The reload happens between rounds, in the loop, so it never races an apply. */
  private requestReload() {
    this.reloadPending = true;
    this.wakeUp?.();
  }

  private reloadConfig() {
    this.reloadPending = false;
    const at = new Date(this.now()).toISOString();
    let next: Config;
    try {
      next = loadConfig(this.opts.configPath);
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : String(err);
      this.log.error('new configuration rejected; still running on the previous one', { error: message });
      this.lastConfigReload = { at, ok: false, error: message };
      return;
    }
    for (const w of next.warnings) this.log.warn(w);
    const watchedChanged = next.watched.join('\n') !== this.config.watched.join('\n');
    const stateDirChanged = maintenanceFile(next.state_file) !== maintenanceFile(this.config.state_file);
    this.loaded = next;
    this.useDiscovered();
    this.runners = this.makeRunners(next, this.runners);
    void this.useHistory();
    this.notifier.configure(next.hooks);
    this.lastConfigReload = { at, ok: true };
    this.log.info('configuration reloaded', {
      config: next.source,
      prefixes: next.prefixes.length,
      probes: next.probes.length,
    });
    if (stateDirChanged) {
      void this.maintenanceWatcher?.close();
      this.maintenanceText = null;
      this.watchMaintenance();
    }
    if (watchedChanged && this.opts.watch !== false) {
      void this.watcher?.close();
      this.startWatcher();
    }
  }

  /** Rounds from now on work on the configured and the discovered prefixes (gone ones drain). */
  private useDiscovered() {
    this.config = this.discovery.apply(this.loaded);
    this.health = carryOverHealth(this.config, this.health);
  }

  /** Re-discovery runs beside the rounds and never delays one; its result counts from the next round. */
  private discoverInBackground() {
    if (this.discovering || this.loaded.discover.length === 0) return;
    this.discovering = this.discovery
      .refresh(this.loaded.discover)
      .then((changed) => {
        this.discoveryChanged ||= changed;
      })
      .catch((err) => this.log.error('discovery failed', { error: errorDetail(err) }))
      .finally(() => (this.discovering = null));
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.reloadPending) this.reloadConfig();
      this.maintenanceChanged = false;
      await this.refreshMaintenance();
      await this.pruneMaintenance();
      if (this.discoveryChanged) {
        this.discoveryChanged = false;
        this.useDiscovered();
      }
      this.discoverInBackground();
      const roundStart = performance.now();
      try {
        await this.step();
      } catch (err) {
        // A bug must not kill the resolver's helper: log it and try again next round.
        this.log.error('round failed', { error: errorDetail(err) });
      }
      if (this.round === 1) this.opts.hooks?.ready?.();
      if (this.stopping) break;
      // Rounds *start* every interval (fast_interval): the round's own time counts towards the wait,
      // so a failing prefix (its probes run into `timeout`) is re-checked every fast_interval, not
      // every fast_interval + timeout.
      await this.sleep(Math.max(0, nextDelay(this.config, this.health) - (performance.now() - roundStart)));
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.reloadPending || this.maintenanceChanged) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  /**
   * One round: probe, decide, apply if the rendered text changed, write the state file; then the
   * confirmation burst the round asked for (health.confirm_burst), as a step of its own.
   */
  async step(): Promise<Decision> {
    const config = this.config;
    const round = await this.prober(config.prefixes, config.probes, { timeoutMs: config.health.timeout });
    const now = this.now();
    const held = maintenanceInForce(this.maintenance, now);
    for (const id of this.heldLastRound)
      if (!held.has(id) && this.maintenance.has(id)) this.log.info(`prefix ${id}: maintenance ended (--until)`);
    this.heldLastRound = new Set(held.keys());
    const decision = decide(config, this.health, this.selection, round.outcomes, now, held);
    this.round++;
    this.lastRoundMs = round.duration_ms;
    if (decision.confirm.length === 0) {
      await this.commit(decision, now, held);
      return decision;
    }
    // the burst's snapshot follows one timeout later: this one would only hold the burst back
    await this.commit(decision, now, held, false);
    return this.confirm(config, decision);
  }

  /** The burst: the sets start back to back, so they are in flight together and end one timeout later. */
  private async confirm(config: Config, round: Decision): Promise<Decision> {
    const most = Math.max(...round.confirm.map((c) => c.sets));
    const sets = await Promise.all(
      Array.from({ length: most }, (_, i) => {
        const ids = new Set(round.confirm.filter((c) => c.sets > i).map((c) => c.prefix));
        const prefixes = config.prefixes.filter((p) => ids.has(p.id));
        return this.prober(prefixes, config.probes, { timeoutMs: config.health.timeout });
      }),
    );
    const now = this.now();
    const held = maintenanceInForce(this.maintenance, now);
    const decision = decideConfirmation(
      config,
      round,
      sets.map((s) => s.outcomes),
      now,
      held,
    );
    await this.commit(decision, now, held);
    return decision;
  }

  private async commit(decision: Decision, now: number, held: ReadonlyMap<string, MaintenanceEntry>, snapshot = true) {
    this.health = decision.health;
    this.selection = decision.selection;
    this.lastDecision = decision;
    this.unobserved.push(decision);
    this.logDecision(decision, now, held);
    await this.applyAll(decision.rendered);
    if (snapshot) await this.queueSnapshot(now);
  }

  private logDecision(d: Decision, now: number, held: ReadonlyMap<string, MaintenanceEntry>) {
    const faults = targetFaultNotice(this.targetFaults, d.verdict.targetFaults, now);
    this.targetFaults = faults.memo;
    if (faults.notice) this.log[faults.notice.level](faults.notice.msg, faults.notice.fields);
    for (const t of d.transitions) {
      const p = this.config.prefixes.find((x) => x.id === t.id);
      const at = new Date(now).toISOString();
      this.notifier.fire('on_state', {
        document: { event: 'state', prefix: t.id, name: p?.name ?? t.id, from: t.from, to: t.to, reason: t.reason, at },
        env: { NAT64_HEALTH_PREFIX: t.id, NAT64_HEALTH_STATE: t.to, NAT64_HEALTH_FROM: t.from },
      });
      this.log[t.to === 'down' ? 'warn' : 'info'](`prefix ${t.id} is ${t.to}`, {
        name: p?.name,
        from: t.from,
        reason: t.reason,
      });
    }
    for (const c of d.changes) this.log.info(`prefix ${c.id} ${c.change}`, { reason: c.reason });
    const condition = setCondition({
      failsafe: d.selection.failsafe,
      prefixes: this.config.prefixes.map((p) => ({
        maintenance: held.has(p.id) ? maintenanceStatus(held.get(p.id)!) : null,
      })),
    });
    if (condition) {
      // a failure is an error; every prefix in maintenance is an operator's choice, worth a warning
      if (now - this.failsafeLoggedAt >= 60_000 || d.changes.length > 0) {
        this.failsafeLoggedAt = now;
        this.log[condition.kind === 'failsafe' ? 'error' : 'warn'](condition.text, { active: d.selection.active });
      }
    } else {
      this.failsafeLoggedAt = 0;
    }
  }

  /** Foreground targets hold the round; background (SSH) ones never delay it or the others. */
  private async applyAll(rendered: string) {
    const active = [...this.selection.active];
    const context = {
      draining: Object.keys(this.selection.draining),
      changes: (this.lastDecision?.changes ?? []).map((c) => ({ ...c })),
    };
    await Promise.all(this.runners.map((r) => r.offer(rendered, active, this.applyReason(r), context)));
  }

  /** State file writes, one at a time and in order (rounds and background applies both write). */
  private queueSnapshot(now: number): Promise<void> {
    const next = this.snapshotQueue.then(() => this.writeSnapshot(Math.max(now, this.now())));
    this.snapshotQueue = next.catch(() => undefined);
    return next;
  }

  /** Resolves when no apply is in flight (tests, benchmarks). */
  async settled(): Promise<void> {
    while (this.runners.some((r) => r.busy)) await Promise.all(this.runners.map((r) => r.idle()));
    await this.applyHistory.idle();
  }

  /** Resolves when no notify hook runs or waits (tests). */
  hooksIdle(): Promise<void> {
    return this.notifier.idle();
  }

  /** Why a target is written this round: for its log line, the state file and the status page. */
  private applyReason(runner: TargetRunner): string {
    const changes = this.lastDecision?.changes ?? [];
    if (changes.length > 0) return `selection changed: ${changes.map((c) => `${c.id} ${c.change}`).join(', ')}`;
    return runner.served !== null
      ? 'rendered configuration changed'
      : 'startup or configuration reload: bringing BIND in line';
  }

  snapshot(now = this.now()): StateSnapshot {
    const d = this.lastDecision;
    const nextAt = this.stopping ? null : new Date(now + nextDelay(this.config, this.health, () => 0.5)).toISOString();
    const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
    const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);
    const held = maintenanceInForce(this.maintenance, now);
    return {
      version: 1,
      pid: process.pid,
      config: this.config.source,
      updated_at: new Date(now).toISOString(),
      round: this.round,
      round_ms: this.lastRoundMs,
      next_round_at: nextAt,
      failsafe: this.selection.failsafe,
      dry_run: !!this.opts.dryRun,
      active: this.selection.active,
      draining: Object.keys(this.selection.draining),
      draining_since: Object.fromEntries(
        Object.entries(this.selection.draining).map(([id, since]) => [id, new Date(since).toISOString()]),
      ),
      target_faults: d?.verdict.targetFaults ?? [],
      maintenance_file: maintenanceFile(this.config.state_file),
      maintenance: Object.fromEntries([...held].map(([id, m]) => [id, maintenanceStatus(m)])),
      prefixes: this.config.prefixes.map((p) => {
        const h = this.health.get(p.id)!;
        const m = held.get(p.id);
        return {
          prefix: p.id,
          name: p.name,
          group: p.group,
          status: h.status,
          active: this.selection.active.includes(p.id),
          draining: p.id in this.selection.draining,
          draining_since: iso(this.selection.draining[p.id]),
          maintenance: m ? maintenanceStatus(m) : null,
          latency_ms: h.latency_ms,
          loss_ratio: lossRatio(h),
          score_ms: finiteOrNull(rankScore(h, this.config.select.loss_penalty)),
          good_streak: h.good_streak,
          bad_streak: h.bad_streak,
          discovered_from: p.discovered ?? null,
          since: iso(h.since),
          last_round: h.last_round,
        };
      }),
      targets: this.runners.map((r) => ({
        name: r.name,
        last_apply: r.lastApply,
        serving: r.servedSet,
        verification: r.verification,
      })),
      applies: this.applies,
      discovery: this.discovery.status(this.loaded.discover),
      last_config_reload: this.lastConfigReload,
    };
  }

  private async writeSnapshot(now: number) {
    const snapshot = this.snapshot(now);
    // every round while rounds are a second or more apart; faster ones only on change or each second
    const write = stateWriteDue(this.stateWritten, snapshot, now, STATE_HEARTBEAT_MS);
    if (write.due) {
      try {
        await writeState(this.config.state_file, snapshot);
        this.stateWritten = write.memo;
      } catch (err) {
        this.log.warn('cannot write the state file', { file: this.config.state_file, error: (err as Error).message });
      }
    }
    const names = snapshot.active.map((id) => this.config.prefixes.find((p) => p.id === id)?.name ?? id);
    const condition = setCondition(snapshot)?.kind;
    const mark =
      condition === 'failsafe' ? 'FAIL-SAFE ' : condition === 'all-in-maintenance' ? 'ALL IN MAINTENANCE ' : '';
    this.opts.hooks?.status?.(`${mark}active: ${names.join(', ') || 'none'}`);
    this.opts.hooks?.snapshot?.(snapshot, this.observedDecision());
  }

  /** The decision a snapshot shows: the last one, with the probes, transitions and changes of all since. */
  private observedDecision(): Decision | null {
    const since = this.unobserved.splice(0);
    if (since.length < 2) return this.lastDecision;
    return {
      ...this.lastDecision!,
      outcomes: since.flatMap((d) => d.outcomes),
      transitions: since.flatMap((d) => d.transitions),
      changes: since.flatMap((d) => d.changes),
    };
  }
}
