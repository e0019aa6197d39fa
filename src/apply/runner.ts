// One runner per target: its apply in flight (never two at once), its backoff, the text it is
// known to serve and what BIND was last found serving. It looks rather than trusts: the output is
// compared with what was written there (every round for a local target, at every verification
// for a remote one), and a removed, truncated or edited output is written back (drift repair).
// Runners outlive config reloads when their target's settings did not change, so nothing they know
// is lost (a pending reload included).
import { DEFAULT_POOL } from '../config/schema.js';
import { errorDetail } from '../lib/format.js';
import type { Logger } from '../lib/log.js';
import type { ApplyOptions, ApplyOutcome, ApplyTarget, Drift } from './target.js';
import { askSettled, comparePools, type PoolsVerdict } from './verify.js';

const MAX_BACKOFF_MS = 60_000;
const RELOAD_AGAIN = 'BIND did not serve the decided set';
/** how often a remote output is compared when its verification is off (a read over SSH) */
const REMOTE_DRIFT_MS = 60_000;

/** The apply with a reload after a verification found BIND serving something else. */
interface Reapplied {
  outcome: ApplyOutcome;
  /** RELOAD_AGAIN, naming the pools it was about when client pools were asked */
  reason: string;
  at: string;
}

/** An apply that did something, as the state file and the status page show it. */
export interface AppliedRecord extends ApplyOutcome {
  at: string;
  /** why it was applied (selection change, startup, retry) */
  reason?: string;
  /** a drift repair: what differed in the output */
  drift?: string;
}

export interface Verification {
  at: string;
  /** every pool asked was served its decided set */
  ok: boolean;
  /** the prefixes BIND answered the default pool's asker with, or null when it did not answer */
  served: string[] | null;
  /** what was found; with client pools asked, each mismatch (or each pool) named */
  detail: string;
  /** the set it should serve the default pool */
  decided: string[];
  /** each client pool asked (`verify.pools`), in config order; absent: none was */
  pools?: PoolVerification[];
}

/** What BIND served one client pool's asker, and the pool's decided set. */
export interface PoolVerification {
  pool: string;
  ok: boolean;
  /** null: BIND did not answer */
  served: string[] | null;
  decided: string[];
  detail: string;
}

export interface RunnerHooks {
  log: Logger;
  now(): number;
  dryRun: boolean;
  /** every apply that did something, and every verification: the daemon's history and snapshot */
  recorded(runner: TargetRunner, record: AppliedRecord | null): void;
  /** current selection, for log lines */
  fields(): Record<string, unknown>;
  /** an apply changed what this target serves (notify hooks) */
  changed?(runner: TargetRunner, change: ServedChange): void;
  /** an apply happened (not unchanged, not a dry run), reported once its verification is known */
  applied?(runner: TargetRunner, report: ApplyReport): void;
}

/** One apply that happened, with what it wrote and why: what the apply history keeps. */
export interface ApplyReport {
  target: string;
  /** the time of its state file record (`applies[].at`) */
  at: string;
  outcome: ApplyOutcome;
  reason: string;
  /** the active set served before; null: not known */
  old: string[] | null;
  new: string[];
  draining: string[];
  changes: ServedChange['changes'];
  /** each pool's set before and after; absent without `pools:` */
  pools?: PoolSets;
  /** the text before and after: the output file when the apply read it, else the rendered text */
  text: { file: string | null; before: string | null; after: string };
  /** what BIND answered after it; null: not asked */
  verification: { ok: boolean; detail: string; reapplied: boolean } | null;
}

/** What the target served before an apply (the history's "old"). */
interface Before {
  set: string[] | null;
  /** each client pool's set (the default pool's is `set`); null: not known or no pools */
  pools: OfferContext['pools'] | null;
  text: string | null;
}

/**
 * Each pool's set before and after an apply, by pool name: the configured pools in config order,
 * then the default pool (DEFAULT_POOL). `old` null: not known (the first apply since the start, or
 * a pool the previous apply did not have).
 */
export type PoolSets = Record<string, { old: string[] | null; new: string[] }>;

/** What an apply changed on a target: the on_change hook's document. */
export interface ServedChange {
  /** the active set it served before; null: not known (first apply since the start) */
  old: string[] | null;
  new: string[];
  draining: string[];
  /** why it was applied */
  reason: string;
  /** the selection changes of the decision that wanted this text (`pool`: a client pool's, not the default's) */
  changes: Array<{ id: string; change: string; reason: string; pool?: string }>;
  at: string;
  /** each pool's set before and after; absent without `pools:` */
  pools?: PoolSets;
}

/** What the daemon decided besides the set, carried with the text to the apply. */
export interface OfferContext {
  /** the prefixes rendered draining: left every pool's set */
  draining: string[];
  changes: ServedChange['changes'];
  /** each client pool's decided set by pool name (config order); absent without `pools:` */
  pools?: Readonly<Record<string, readonly string[]>>;
}

interface Wanted {
  text: string;
  /** the active prefixes of `text`: what BIND should answer ipv4only.arpa with */
  active: string[];
  reason: string;
  context: OfferContext;
}

export class TargetRunner {
  /** rendered text this target is known to serve */
  served: string | null = null;
  /** the active prefixes of that text */
  servedSet: string[] | null = null;
  /** each client pool's set of that text (the default pool's is `servedSet`); null: not known or no pools */
  servedPools: OfferContext['pools'] | null = null;
  lastApply: AppliedRecord | null = null;
  verification: Verification | null = null;
  private failure: { count: number; retryAt: number; text: string } | null = null;
  private inflight: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private wanted: Wanted | null = null;
  private verifyDueAt = 0;
  /** a remote output's next comparison (a local one is compared every round) */
  private driftDueAt = 0;
  private warned = new Set<string>();
  /** the last text an apply wrote or found in place (a failure does not reset it) */
  private lastGood: string | null = null;
  private stopped = false;

  constructor(
    readonly target: ApplyTarget,
    /** what the target is made of: an equal key on a config reload keeps this runner */
    readonly key: unknown,
    /** where it writes: a replacement writing the same file inherits "reload pending" */
    readonly outputKey: string,
    private readonly hooks: RunnerHooks,
    /** an apply of the runner this one replaces, still in flight */
    private readonly after: Promise<void> = Promise.resolve(),
  ) {}

  get name(): string {
    return this.target.name;
  }

  get background(): boolean {
    return !!this.target.background;
  }

  /** The text to serve now; resolves when this runner is done with it (at once for a background target). */
  offer(
    text: string,
    active: string[],
    reason: string,
    context: OfferContext = { draining: [], changes: [] },
  ): Promise<void> {
    if (this.wanted?.text !== text) this.wanted = { text, active: [...active], reason, context };
    const run = this.kick();
    return this.background ? Promise.resolve() : run;
  }

  /** Resolves when nothing is in flight. */
  async idle(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  get busy(): boolean {
    return this.inflight !== null;
  }

  /** No more applies; the one in flight finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.idle();
  }

  /**
   * Applies the wanted text unless it is served, or it is the text that just failed and its retry
   * is not due (a different text goes at once, backoff or not), or verifies when that is due.
   */
  private kick(): Promise<void> {
    if (this.inflight) return this.inflight;
    const want = this.wanted;
    if (!want || this.stopped) return Promise.resolve();
    const now = this.hooks.now();
    let work: (() => Promise<void>) | null = null;
    if (this.served !== want.text) {
      const retrying = this.failure?.text === want.text;
      if (retrying && now < this.failure!.retryAt) {
        // a timer may fire before the clock says it is due (its start is the event loop's cached
        // time): arm it again, or a background target would wait for the next round
        if (this.background) this.armRetry();
        return Promise.resolve();
      }
      work = () => this.applyNow(want, retrying ? 'retry after a failed apply' : want.reason);
    } else if (!this.hooks.dryRun) {
      const verifyDue = !!this.target.verification && now >= this.verifyDueAt;
      const driftDue = !!this.target.drift && (this.background ? verifyDue || this.remoteDriftDue(now) : true);
      if (verifyDue || driftDue)
        work = async () => {
          const drift = driftDue ? await this.target.drift!(want.text) : null;
          if (drift) return this.repair(want, drift);
          if (!verifyDue) return;
          const before = this.before();
          const { verification, reapplied } = await this.verify(want, false);
          const { ok, detail } = verification;
          if (reapplied) this.report(reapplied, want, reapplied.reason, before, { ok, detail, reapplied: false });
        };
    }
    if (!work) return Promise.resolve();
    const job = work;
    const run = (async () => {
      await this.after;
      await job();
    })()
      .catch((err: unknown) => this.hooks.log.error(`apply to ${this.name} crashed`, { error: errorDetail(err) }))
      .finally(() => {
        this.inflight = null;
        this.afterRun();
      });
    this.inflight = run;
    return run;
  }

  /** Converge (the wanted text may have moved on) or schedule the retry; background targets only. */
  private afterRun() {
    if (this.stopped || !this.background) return;
    if (this.failure && this.failure.text === this.wanted?.text) this.armRetry();
    else if (this.wanted && this.served !== this.wanted.text) void this.kick();
  }

  private armRetry() {
    if (this.stopped || !this.failure) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        void this.kick();
      },
      Math.max(1, this.failure.retryAt - this.hooks.now()),
    );
  }

  /** A remote target without verification is still compared now and then. */
  private remoteDriftDue(now: number): boolean {
    if (this.target.verification || now < this.driftDueAt) return false;
    this.driftDueAt = now + REMOTE_DRIFT_MS;
    return true;
  }

  /**
   * The output is not what was written there: written back through the normal apply (validated,
   * atomic, reloaded when BIND may have loaded the other text), logged and recorded as a repair.
   */
  private repair(want: Wanted, drift: Drift): Promise<void> {
    this.hooks.log.warn(`${this.name}: ${drift.file} is not what was written there: ${drift.detail}; writing it back`);
    return this.applyNow(want, `repair: ${drift.detail}`, { repair: true }, drift.detail);
  }

  private before(): Before {
    return { set: this.servedSet, pools: this.servedPools, text: this.lastGood };
  }

  private async applyNow(want: Wanted, reason: string, opts: ApplyOptions = {}, drift?: string): Promise<void> {
    const before = this.before();
    const outcome = await this.target.apply(want.text, { ...opts, dryRun: this.hooks.dryRun });
    const at = this.record(outcome, want, reason, drift);
    if (outcome.result === 'failed' || this.hooks.dryRun || !this.target.verification)
      return this.report({ outcome, at }, want, reason, before, null);
    const { verification, reapplied } = await this.verify(want, outcome.result === 'applied');
    const { ok, detail } = verification;
    this.report({ outcome, at }, want, reason, before, { ok, detail, reapplied: reapplied !== null });
  }

  /** Hands an apply that happened to the history (`applied`); unchanged files and dry runs are not applies. */
  private report(
    { outcome, at }: { outcome: ApplyOutcome; at: string },
    want: Wanted,
    reason: string,
    before: Before,
    verification: ApplyReport['verification'],
  ) {
    // a dry run applies nothing, also when its validation fails: it leaves no history
    if (outcome.result === 'unchanged' || this.hooks.dryRun || !this.hooks.applied) return;
    const output = outcome.output;
    this.hooks.applied(this, {
      target: this.name,
      at,
      outcome,
      reason,
      old: before.set,
      new: want.active,
      draining: want.context.draining,
      changes: want.context.changes,
      ...poolSets(before, want),
      text: output
        ? { file: output.file, before: output.before?.toString('utf8') ?? null, after: output.after.toString('utf8') }
        : { file: null, before: before.text, after: want.text },
      verification,
    });
  }

  /**
   * Asks BIND what it serves, as a client of the default pool and of each pool verify.pools lists
   * (all at once), and compares each answer with that pool's decided set; a different answer gets one
   * re-apply with reload, then every pool is asked again and the answers are final. Hands back the
   * verification and that re-apply, if there was one. `reloaded`: BIND was just reloaded, and may
   * need a moment before it answers usably.
   */
  private async verify(
    want: Wanted,
    reloaded: boolean,
  ): Promise<{ verification: Verification; reapplied: Reapplied | null }> {
    const v = this.target.verification!;
    const decided = { ...want.context.pools, [DEFAULT_POOL]: want.active };
    const askAll = async (settle: boolean) => {
      const pools = [DEFAULT_POOL, ...(v.pools ?? [])];
      const answers = await Promise.all(
        pools.map((pool) => {
          const ask = () => v.ask(pool === DEFAULT_POOL ? undefined : pool);
          return settle ? askSettled(ask, () => this.stopped) : ask();
        }),
      );
      return comparePools(
        decided,
        pools.map((pool, i) => ({ pool, answer: answers[i]! })),
      );
    };
    let verdict = await askAll(reloaded);
    let reapplied: Reapplied | null = null;
    // BIND answered with something else: reload once. No answer at all: a reload would not help.
    if (verdict.pools.some((p) => !p.ok && p.served !== null)) {
      this.hooks.log.warn(
        `${this.name}: BIND does not serve the decided set${this.poolsOf(verdict)}; applying again with a reload`,
        { detail: verdict.detail },
      );
      const outcome = await this.target.apply(want.text, { reload: true });
      const reason = `${RELOAD_AGAIN}${this.poolsOf(verdict)}`;
      reapplied = { outcome, reason, at: this.record(outcome, want, reason) };
      if (outcome.result !== 'failed') verdict = await askAll(true);
    }
    const now = this.hooks.now();
    this.verifyDueAt = now + v.interval;
    const before = this.verification;
    this.verification = verificationOf(new Date(now).toISOString(), verdict);
    if (!verdict.ok)
      this.hooks.log.error(`${this.name}: BIND does not serve the decided set${this.poolsOf(verdict)}`, {
        detail: verdict.detail,
      });
    else if (before && !before.ok) this.hooks.log.info(`${this.name}: BIND serves the decided set again`);
    this.hooks.recorded(this, null);
    return { verification: this.verification, reapplied };
  }

  /** " to pool a, b": the pools a mismatch is about, when more than the default one were asked */
  private poolsOf(verdict: PoolsVerdict): string {
    if (verdict.pools.length === 1) return '';
    const bad = verdict.pools.filter((p) => !p.ok).map((p) => p.pool);
    return ` to pool${bad.length > 1 ? 's' : ''} ${bad.join(', ')}`;
  }

  /** Takes in an apply's outcome (state, backoff, logs, hooks); returns the time it is recorded at. */
  private record(full: ApplyOutcome, want: Wanted, reason: string, drift?: string): string {
    const now = this.hooks.now();
    const { output: _files, ...outcome } = full; // the file contents go to the history only
    const record: AppliedRecord = {
      ...outcome,
      at: new Date(now).toISOString(),
      reason,
      ...(drift !== undefined ? { drift } : {}),
    };
    const log = this.hooks.log;
    for (const w of outcome.warnings ?? []) {
      // said once per runner: the same cause repeats on every apply
      if (this.warned.has(w)) continue;
      this.warned.add(w);
      log.warn(`${this.name}: ${w}`);
    }
    if (outcome.result === 'failed') {
      const count = this.failure?.text === want.text ? this.failure.count + 1 : 1;
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (count - 1));
      this.failure = { count, retryAt: now + backoff, text: want.text };
      this.served = null;
      log.error(`apply to ${this.name} failed; BIND keeps its previous configuration`, {
        stage: outcome.stage,
        error: outcome.error,
        rolled_back: outcome.rolled_back,
        retry_in_ms: backoff,
        reason,
      });
    } else {
      const before = this.before();
      const changed = outcome.result === 'applied' && this.lastGood !== want.text;
      this.failure = null;
      this.served = want.text;
      this.servedSet = want.active;
      this.servedPools = want.context.pools ?? null;
      this.lastGood = want.text;
      if (changed)
        this.hooks.changed?.(this, {
          old: before.set,
          new: want.active,
          draining: want.context.draining,
          reason,
          changes: want.context.changes,
          at: new Date(now).toISOString(),
          ...poolSets(before, want),
        });
      const fields = {
        ...this.hooks.fields(),
        ms: Math.round(outcome.ms),
        reload_ms: outcome.reload_ms && Math.round(outcome.reload_ms),
        reason,
      };
      if (outcome.result === 'applied') log.info(`applied to ${this.name}`, fields);
      else if (outcome.result === 'dry-run')
        log.info(`dry run: would apply to ${this.name}`, { ...fields, text: want.text });
      else log.info(`${this.name} already serves this set`, fields);
    }
    if (outcome.result !== 'unchanged') this.lastApply = record;
    this.hooks.recorded(this, outcome.result !== 'unchanged' ? record : null);
    return record.at;
  }
}

/** The verification record of a verdict: the default pool's answer on top, the other pools' beside it. */
function verificationOf(at: string, verdict: PoolsVerdict): Verification {
  const [first, ...pools] = verdict.pools;
  const record: Verification = {
    at,
    ok: verdict.ok,
    served: first!.served,
    detail: verdict.detail,
    decided: first!.decided,
  };
  if (pools.length > 0)
    record.pools = pools.map(({ pool, ok, served, decided, detail }) => ({ pool, ok, served, decided, detail }));
  return record;
}

/**
 * `{ pools }` from what was served before to the wanted text, for a report or a hook: each client
 * pool's sets, then the default pool's (the active set); nothing without pools.
 */
function poolSets(before: Before, want: Wanted): { pools?: PoolSets } {
  const pools = want.context.pools;
  if (!pools) return {};
  const sets: PoolSets = {};
  for (const [name, set] of Object.entries(pools)) {
    const old = before.pools?.[name];
    sets[name] = { old: old ? [...old] : null, new: [...set] };
  }
  sets[DEFAULT_POOL] = { old: before.set && [...before.set], new: [...want.active] };
  return { pools: sets };
}
