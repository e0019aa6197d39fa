// The targets' runners (apply/runner.ts), one per target of the config: each round offers them the
// rendered text; a config reload replaces only the runners whose target changed.
import type { Config } from '../config/load.js';
import { makeTarget, outputKey, targetKey, targetsOf } from '../apply/fleet.js';
import type { ApplyTarget } from '../apply/target.js';
import { TargetRunner, type OfferContext, type RunnerHooks } from '../apply/runner.js';
import type { TargetStatus } from './state-file.js';

/** the targets for a config; a target handed back again keeps its runner (tests hand in fakes) */
export type MakeTargets = (config: Config) => ApplyTarget[];

export class TargetFleet {
  private runners: TargetRunner[] = [];
  /** runners replaced by a config reload whose apply in flight has not ended yet */
  private readonly retiring = new Set<TargetRunner>();

  constructor(
    private readonly hooks: RunnerHooks,
    private readonly makeTargets?: MakeTargets,
    /** the daemon holds the local output's lock: the sweep takes every leftover beside it */
    private readonly soleWriter = false,
  ) {}

  /**
   * The runners for a config: a target whose settings did not change keeps its runner (backoff,
   * served text, pending reload); a new one waits for its predecessor's apply in flight and, when
   * it writes the same file, inherits its pending reload.
   */
  configure(config: Config): void {
    const previous = this.runners;
    const plan = this.makeTargets
      ? this.makeTargets(config).map((t) => ({ key: t, out: t.name, make: () => t }))
      : targetsOf(config).map((t) => ({
          key: targetKey(config, t),
          out: outputKey(config, t),
          make: () => makeTarget(config, t, { soleWriter: this.soleWriter }),
        }));
    const left = new Set(previous);
    this.runners = plan.map((p) => {
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
      return new TargetRunner(target, p.key, p.out, this.hooks, after);
    });
    for (const r of left) this.retire(r);
  }

  /** A runner left out of the config: it finishes its apply in flight, then its target is closed. */
  private retire(r: TargetRunner) {
    this.retiring.add(r);
    void r
      .stop()
      .then(() => r.target.close())
      .finally(() => this.retiring.delete(r));
  }

  get names(): string[] {
    return this.runners.map((r) => r.name);
  }

  /**
   * The text to serve now. Foreground targets hold the round; background (SSH) ones never delay it
   * or the others. `changes`: the selection changes of the decision, for the reason of each apply.
   */
  async offer(rendered: string, active: readonly string[], context: OfferContext): Promise<void> {
    await Promise.all(this.runners.map((r) => r.offer(rendered, [...active], applyReason(r, context), context)));
  }

  /** What each target serves, for the state file. */
  statuses(): TargetStatus[] {
    return this.runners.map((r) => ({
      name: r.name,
      last_apply: r.lastApply,
      serving: r.servedSet,
      ...(r.servedPools
        ? { serving_pools: Object.fromEntries(Object.entries(r.servedPools).map(([n, s]) => [n, [...s]])) }
        : {}),
      verification: r.verification,
    }));
  }

  /** Resolves when no apply is in flight. */
  async settled(): Promise<void> {
    while (this.runners.some((r) => r.busy)) await Promise.all(this.runners.map((r) => r.idle()));
  }

  /** No more applies: those in flight (SSH) may finish within `waitMs`, then every target is closed. */
  async stop(waitMs: number): Promise<void> {
    const all = [...this.runners, ...this.retiring];
    await Promise.race([Promise.all(all.map((r) => r.stop())), new Promise((r) => setTimeout(r, waitMs).unref())]);
    await Promise.all(this.runners.map((r) => r.target.close()));
  }
}

/** Why a target is written this round: for its log line, the state file and the status page. */
export function applyReason(runner: Pick<TargetRunner, 'served'>, context: Pick<OfferContext, 'changes'>): string {
  const { changes } = context;
  const said = (c: OfferContext['changes'][number]) =>
    `${c.id} ${c.change}${c.pool !== undefined ? ` in pool ${c.pool}` : ''}`;
  if (changes.length > 0) return `selection changed: ${changes.map(said).join(', ')}`;
  return runner.served !== null
    ? 'rendered configuration changed'
    : 'startup or configuration reload: bringing BIND in line';
}
