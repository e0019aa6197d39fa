// Words for the state file's parts, shared by the status page and the `status` table.
import type { AppliedRecord } from '../apply/runner.js';
import type { PrefixStatus } from '../daemon/state-file.js';

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
