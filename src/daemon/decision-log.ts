// What a decision says to the operator: the log lines of its transitions, selection changes, target
// faults and the set's condition (each reminder at most once a minute), and the on_state hooks.
import type { Config } from '../config/load.js';
import { setCondition } from '../core/condition.js';
import type { Decision } from '../core/step.js';
import type { Logger } from '../lib/log.js';
import { maintenanceStatus, type MaintenanceEntry } from './maintenance.js';
import { NO_TARGET_FAULTS, targetFaultNotice, type TargetFaultMemo } from './notices.js';
import type { Notifier } from './notify.js';

/** how often a condition that holds (fail-safe, all in maintenance) is said again */
const CONDITION_REMINDER_MS = 60_000;

export class DecisionLog {
  private conditionLoggedAt = 0;
  private targetFaults: TargetFaultMemo = NO_TARGET_FAULTS;

  constructor(
    private readonly log: Logger,
    private readonly notifier: Pick<Notifier, 'fire'>,
  ) {}

  record(
    d: Decision,
    config: Pick<Config, 'prefixes'>,
    now: number,
    held: ReadonlyMap<string, MaintenanceEntry>,
  ): void {
    const faults = targetFaultNotice(this.targetFaults, d.verdict.targetFaults, now);
    this.targetFaults = faults.memo;
    if (faults.notice) this.log[faults.notice.level](faults.notice.msg, faults.notice.fields);
    for (const t of d.transitions) {
      const p = config.prefixes.find((x) => x.id === t.id);
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
    // a client pool's change names its pool; the default pool's reads as it did before pools
    for (const c of d.changes)
      if (c.pool === undefined) this.log.info(`prefix ${c.id} ${c.change}`, { reason: c.reason });
      else this.log.info(`prefix ${c.id} ${c.change} in pool ${c.pool}`, { pool: c.pool, reason: c.reason });
    const condition = setCondition({
      failsafe: d.selection.failsafe,
      prefixes: config.prefixes.map((p) => ({
        maintenance: held.has(p.id) ? maintenanceStatus(held.get(p.id)!) : null,
      })),
    });
    if (condition) {
      // a failure is an error; every prefix in maintenance is an operator's choice, worth a warning
      if (now - this.conditionLoggedAt >= CONDITION_REMINDER_MS || d.changes.length > 0) {
        this.conditionLoggedAt = now;
        this.log[condition.kind === 'failsafe' ? 'error' : 'warn'](condition.text, { active: d.selection.active });
      }
    } else {
      this.conditionLoggedAt = 0;
    }
  }
}
