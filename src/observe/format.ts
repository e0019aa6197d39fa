// Words for the state file's parts, shared by the status page and the `status` table.
import type { AppliedRecord, PrefixStatus } from '../daemon/state-file.js';

export function role(p: Pick<PrefixStatus, 'active' | 'draining'>): 'active' | 'draining' | 'standby' {
  return p.active ? 'active' : p.draining ? 'draining' : 'standby';
}

/** The last round in words: "2/2 answered" or "0/2 answered: tcp 192.0.2.10:80: timeout". */
export function lastRound(p: Pick<PrefixStatus, 'last_round'>): string {
  const r = p.last_round;
  if (!r) return '-';
  const head = `${r.answered}/${r.counted} answered`;
  return r.failures.length === 0 ? head : `${head}: ${r.failures.map((f) => `${f.probe}: ${f.error}`).join('; ')}`;
}

/** What an apply did, in a few words: "applied", "failed (reload): rndc: ..." */
export function applyDetail(a: AppliedRecord): string {
  if (a.result !== 'failed') return a.rolled_back ? `${a.result}, rolled back` : a.result;
  const stage = a.stage ? ` (${a.stage})` : '';
  return `failed${stage}${a.rolled_back ? ', rolled back' : ''}${a.error ? `: ${a.error}` : ''}`;
}

/** A prefix's maintenance in words: "maintenance until 18:00 (upgrade)", or '' when it has none. */
export function maintenanceNote(p: Pick<PrefixStatus, 'maintenance'>): string {
  const m = p.maintenance;
  if (!m) return '';
  const until = m.until ? ` until ${m.until}` : '';
  return `maintenance${until}${m.reason ? ` (${m.reason})` : ''}`;
}

export interface SetCondition {
  kind: 'failsafe' | 'all-in-maintenance';
  text: string;
}

/**
 * What holds when no prefix is eligible (select.ts, rules 4 and 6), in the same words for the log,
 * `status`, systemd's status line and the status page; null while some prefix is eligible.
 */
export function setCondition(s: {
  failsafe: boolean;
  prefixes: ReadonlyArray<Pick<PrefixStatus, 'maintenance'>>;
}): SetCondition | null {
  const total = s.prefixes.length;
  const held = s.prefixes.filter((p) => p.maintenance).length;
  if (s.failsafe) {
    const none =
      held === 0
        ? 'no prefix passed its probes'
        : `no prefix outside maintenance passed its probes (${held} of ${total} in maintenance)`;
    return { kind: 'failsafe', text: `FAIL-SAFE: ${none}; keeping the last good set` };
  }
  if (total > 0 && held === total)
    return {
      kind: 'all-in-maintenance',
      text: allHeldText(total),
    };
  return null;
}

const allHeldText = (total: number) =>
  `ALL IN MAINTENANCE: every prefix (${total}) is in maintenance; the set is empty, BIND synthesizes with none`;
