// Small text helpers shared by the status page and the `status` table.
import type { AppliedRecord, PrefixStatus } from '../daemon/state-file.js';

/** "850 ms"-style latency; "-" when unknown. */
export function fmtMs(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return '-';
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

/** A compact duration: 45s, 3m12s, 2h05m, 3d04h. */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** "3m12s ago" for an ISO time; "-" when absent or unparsable. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  return t > now + 1000 ? `in ${fmtDuration(t - now)}` : `${fmtDuration(now - t)} ago`;
}

/** "2025-01-02 03:04:05Z": ISO without the T and milliseconds. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t)
    ? iso
    : new Date(t)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

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
  return `failed${a.stage ? ` (${a.stage})` : ''}${a.rolled_back ? ', rolled back' : ''}${a.error ? `: ${a.error}` : ''}`;
}
