// The long-running daemon: the imperative shell around decide(). It wires the units that each do
// one job - the wake-up queue, the target fleet, the maintenance poller, the config reloader, the
// discovery scheduler, the decision log and the state persister - and owns what they share: the
// config, health, selection and the round counter. Signals are the service's: it calls reload()
// and stop().
import type { Config } from '../config/load.js';
import { errorDetail } from '../lib/format.js';
import type { Logger } from '../lib/log.js';
import { runRound, type RoundOptions, type RoundResult } from '../probe/round.js';
import type { PrefixHealth } from '../health/state.js';
import { EMPTY_SELECTION, type SelectionState } from '../select/select.js';
import { carryOverHealth, decide, decideConfirmation, nextDelay, type Decision } from '../core/step.js';
import type { AppliedRecord, ServedChange } from '../apply/runner.js';
import { historyDir } from '../apply/history.js';
import { ApplyHistoryStore } from '../apply/history-store.js';
import { Discovery } from '../discover/discover.js';
import { ConfigReloader } from './config-reloader.js';
import { DecisionLog } from './decision-log.js';
import { DiscoveryScheduler } from './discovery-scheduler.js';
import type { MaintenanceEntry } from './maintenance.js';
import { MaintenancePoller } from './maintenance-poller.js';
import { Notifier } from './notify.js';
import { buildSnapshot } from './snapshot.js';
import { readState, restoredSelection, type StateSnapshot } from './state-file.js';
import { StatePersister } from './state-persister.js';
import { TargetFleet, type MakeTargets } from './target-fleet.js';
import { WakeQueue } from './wake-queue.js';
import type { WriterLocks } from './writer-locks.js';

export interface DaemonHooks {
  /** after the first completed round (systemd READY=1) */
  ready?(): void;
  /** a one-line summary after each round (systemd STATUS=) */
  status?(text: string): void;
  /** every snapshot, after it is written (metrics, status page) */
  snapshot?(snapshot: StateSnapshot, decision: Decision | null): void;
  /** every apply of every target that did something (applied, failed, dry run), as it is recorded (metrics) */
  applied?(record: AppliedRecord): void;
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
    applied: (record) => each('applied', [record]),
  };
}

export interface DaemonOptions {
  /** null: the embedded default config */
  configPath: string | null;
  config: Config;
  log: Logger;
  /** decide and log, write nothing: no apply, no state file, no history, no maintenance pruning */
  dryRun?: boolean;
  /**
   * the locks held for this config (the service takes them before the daemon starts): kept in step
   * with config reloads, and taken again when a lock file disappears
   */
  locks?: WriterLocks;
  /** watch the config files for changes (SIGHUP works regardless) */
  watch?: boolean;
  hooks?: DaemonHooks;
  /** the targets for a config (default: from `targets:`); a target handed back again keeps its runner */
  makeTarget?: MakeTargets;
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

/** the applies the state file lists, newest first */
const APPLIES_KEPT = 50;
/** on stop, how long applies in flight (SSH) may take to finish */
const STOP_WAIT_MS = 20_000;

export class Daemon {
  /** as loaded: the configured prefixes only */
  private loaded: Config;
  /** what rounds work on: the configured prefixes and the discovered ones */
  private config: Config;
  private health = new Map<string, PrefixHealth>();
  private selection: SelectionState = EMPTY_SELECTION;
  /** each client pool's selection, by pool name */
  private pools = new Map<string, SelectionState>();
  private applies: AppliedRecord[] = [];
  private round = 0;
  private lastRoundMs: number | null = null;
  private lastDecision: Decision | null = null;
  /** decisions since the last snapshot: a round's and its burst's (the round's own snapshot is skipped) */
  private unobserved: Decision[] = [];
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private readonly wake = new WakeQueue();
  private readonly discovery: Discovery;
  private readonly discoveries: DiscoveryScheduler;
  private readonly maintenance: MaintenancePoller;
  private readonly reloader: ConfigReloader;
  private readonly fleet: TargetFleet;
  private readonly notifier: Notifier;
  private readonly decisionLog: DecisionLog;
  private readonly persister: StatePersister;
  /** the last applies per target with their diffs (history/ beside the state file) */
  readonly applyHistory: ApplyHistoryStore;
  private readonly now: () => number;
  private readonly prober: Prober;
  private readonly log: Logger;

  constructor(private readonly opts: DaemonOptions) {
    this.loaded = this.config = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.prober = opts.prober ?? runRound;
    this.discovery = opts.discovery ?? new Discovery(this.log, this.now);
    this.discoveries = new DiscoveryScheduler(this.discovery, this.log, () => this.wake.post('discovered'));
    this.maintenance = new MaintenancePoller(this.config.state_file, this.log, this.now, () =>
      this.wake.post('maintenance'),
    );
    this.reloader = new ConfigReloader(
      opts.configPath,
      this.log,
      this.now,
      () => this.wake.post('reload'),
      opts.watch !== false,
    );
    this.notifier = new Notifier(this.config.hooks, this.log, opts.hookDone);
    this.decisionLog = new DecisionLog(this.log, this.notifier);
    this.applyHistory = new ApplyHistoryStore(this.log);
    this.fleet = new TargetFleet(
      {
        log: this.log,
        now: this.now,
        dryRun: !!opts.dryRun,
        fields: () => ({ active: this.selection.active, draining: Object.keys(this.selection.draining) }),
        recorded: (runner, record) => {
          if (record) {
            this.applies = [record, ...this.applies].slice(0, APPLIES_KEPT);
            this.opts.hooks?.applied?.(record);
          }
          // background applies and verifications publish when they end; rounds write their own snapshot
          if (runner.background) void this.persister.persist(this.now());
        },
        changed: (runner, change) => this.notifyChange(runner.name, change),
        applied: (_runner, report) => {
          // a history that cannot be read or written is logged by the store and never stops an apply
          this.applyHistory.record(historyDir(this.config.state_file), this.config.history.keep, report);
        },
      },
      opts.makeTarget,
      !!opts.locks,
    );
    this.fleet.configure(this.config);
    this.persister = new StatePersister(
      // a dry run beside the daemon must not write over its state file
      opts.dryRun ? null : () => this.config.state_file,
      this.log,
      this.now,
      (now) => this.snapshot(now),
      {
        status: (text) => this.opts.hooks?.status?.(text),
        snapshot: (snapshot) => this.opts.hooks?.snapshot?.(snapshot, this.observedDecision()),
      },
      (id) => this.config.prefixes.find((p) => p.id === id)?.name ?? id,
    );
    this.health = carryOverHealth(this.config, this.health);
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

  async start(): Promise<void> {
    for (const w of this.config.warnings) this.log.warn(w);
    this.log.info('starting', {
      config: this.config.source,
      prefixes: this.config.prefixes.length,
      probes: this.config.probes.length,
      dry_run: !!this.opts.dryRun,
    });
    this.reloader.watch(this.config.watched);
    this.maintenance.start();
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
  /** Each configured pool's selection from the previous run's state file, as the default's is restored. */
  private restorePools(previous: StateSnapshot) {
    const configured = new Set(this.config.prefixes.map((p) => p.id));
    for (const pool of previous.pools ?? []) {
      if (!this.config.pools.some((p) => p.name === pool.name)) continue;
      const prefixes = pool.active.map((prefix) => ({ prefix, active: true }));
      const restored = restoredSelection({ prefixes, draining_since: pool.draining_since }, configured, this.now());
      if (restored.dropped.length > 0)
        this.log.warn(`state file: pool ${pool.name}: dropped what is not a well-formed prefix or time`, {
          file: this.config.state_file,
          dropped: restored.dropped,
        });
      this.pools.set(pool.name, {
        active: restored.active,
        draining: restored.draining,
        challengers: {},
        failsafe: false,
      });
    }
  }

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
    this.restorePools(previous);
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
    // reading may set a bad file aside: a dry run leaves the history as it is
    if (this.opts.dryRun) return Promise.resolve();
    return this.applyHistory.use(historyDir(this.config.state_file), this.fleet.names);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.post('stop');
    await this.reloader.stop();
    await this.maintenance.stop();
    await this.loopDone;
    await this.discoveries.idle();
    // Let applies in flight (SSH) finish, so no target is left with a new file and no reload.
    await this.fleet.stop(STOP_WAIT_MS);
    await this.applyHistory.idle();
    // the hooks of the last applies (on_change) and health changes: bounded by hooks.timeout
    await this.notifier.stop();
  }

  /** Re-read the configuration before the next round (SIGHUP, `systemctl reload`). */
  reload(): void {
    this.wake.post('reload');
  }

  private reloadConfig() {
    // a config whose state file or output another daemon holds is rejected like a broken one
    const next = this.reloader.load((c) => this.opts.locks?.hold(c));
    if (!next) return;
    this.loaded = next;
    this.useDiscovered();
    this.fleet.configure(next);
    void this.useHistory();
    this.notifier.configure(next.hooks);
    this.log.info('configuration reloaded', {
      config: next.source,
      prefixes: next.prefixes.length,
      probes: next.probes.length,
    });
    this.maintenance.moveTo(next.state_file);
    this.reloader.watch(next.watched);
  }

  /** Rounds from now on work on the configured and the discovered prefixes (gone ones drain). */
  private useDiscovered() {
    this.config = this.discovery.apply(this.loaded);
    this.health = carryOverHealth(this.config, this.health);
  }

  private refreshMaintenance(): Promise<void> {
    return this.maintenance.refresh((id) => this.config.prefixes.some((p) => p.id === id));
  }

  /**
   * What the loop does for each round: the events since the last one first (a config reload, a
   * changed maintenance file, a new discovered set), then the round itself (step).
   */
  async nextRound(): Promise<Decision | null> {
    const events = this.wake.take();
    if (events.has('reload')) this.reloadConfig();
    this.opts.locks?.refresh();
    await this.refreshMaintenance();
    if (!this.opts.dryRun) await this.maintenance.prune();
    if (events.has('discovered')) this.useDiscovered();
    this.discoveries.kick(this.loaded.discover);
    try {
      return await this.step();
    } catch (err) {
      // A bug must not kill the resolver's helper: log it and try again next round.
      this.log.error('round failed', { error: errorDetail(err) });
      return null;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const roundStart = performance.now();
      await this.nextRound();
      if (this.round === 1) this.opts.hooks?.ready?.();
      if (this.stopping) break;
      // Rounds *start* every interval (fast_interval): the round's own time counts towards the wait,
      // so a failing prefix (its probes run into `timeout`) is re-checked every fast_interval, not
      // every fast_interval + timeout.
      await this.wake.wait(Math.max(0, nextDelay(this.config, this.health) - (performance.now() - roundStart)));
    }
  }

  /**
   * One round: probe, decide, apply if the rendered text changed, write the state file; then the
   * confirmation burst the round asked for (health.confirm_burst), as a step of its own.
   */
  async step(): Promise<Decision> {
    const config = this.config;
    const round = await this.prober(config.prefixes, config.probes, { timeoutMs: config.health.timeout });
    const now = this.now();
    const held = this.maintenance.forRound(now);
    const decision = decide(config, this.health, this.selection, round.outcomes, now, held, this.pools);
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
    const held = this.maintenance.inForce(now);
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
    this.pools = decision.pools;
    this.lastDecision = decision;
    this.unobserved.push(decision);
    this.decisionLog.record(decision, this.config, now, held);
    await this.fleet.offer(decision.rendered, this.selection.active, {
      draining: decision.context.draining.map((p) => p.prefix),
      changes: decision.changes.map((c) => ({ ...c })),
      ...(this.config.pools.length > 0
        ? {
            pools: Object.fromEntries(this.config.pools.map((p) => [p.name, decision.pools.get(p.name)?.active ?? []])),
          }
        : {}),
    });
    if (snapshot) await this.persister.persist(now);
  }

  /** Resolves when no apply is in flight (tests, benchmarks). */
  async settled(): Promise<void> {
    await this.fleet.settled();
    await this.applyHistory.idle();
  }

  /** Resolves when no notify hook runs or waits (tests). */
  hooksIdle(): Promise<void> {
    return this.notifier.idle();
  }

  snapshot(now = this.now()): StateSnapshot {
    return buildSnapshot(
      {
        config: this.config,
        health: this.health,
        selection: this.selection,
        pools: this.pools,
        targetFaults: this.lastDecision?.verdict.targetFaults ?? [],
        round: this.round,
        roundMs: this.lastRoundMs,
        nextRoundAt: this.stopping ? null : now + nextDelay(this.config, this.health, () => 0.5),
        dryRun: !!this.opts.dryRun,
        held: this.maintenance.inForce(now),
        targets: this.fleet.statuses(),
        applies: this.applies,
        discovery: this.discovery.status(this.loaded.discover),
        lastConfigReload: this.reloader.last,
        pid: process.pid,
      },
      now,
    );
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
