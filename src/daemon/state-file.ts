// The state file: what the daemon knows after each round, for `status`, operators and tools.
import fs from 'node:fs/promises';
import type { PrefixHealth } from '../health/state.js';
import type { ApplyOutcome } from '../apply/pipeline.js';
import type { Verification } from '../apply/runner.js';
import type { PrefixVerdict } from '../health/evaluate.js';
import { writeFileAtomic } from '../apply/local/files.js';

export interface PrefixStatus {
  prefix: string;
  name: string;
  group: string | null;
  status: PrefixHealth['status'];
  active: boolean;
  draining: boolean;
  draining_since: string | null;
  latency_ms: number | null;
  good_streak: number;
  bad_streak: number;
  since: string | null;
  last_round: PrefixVerdict | null;
}

export interface AppliedRecord extends ApplyOutcome {
  at: string;
  /** why it was applied (selection change, startup, retry) */
  reason?: string;
}

export interface TargetStatus {
  name: string;
  /** the last apply that did something (applied or failed) */
  last_apply: AppliedRecord | null;
  /** active prefixes of the text this target serves, as far as we know */
  serving: string[] | null;
  /** what BIND answered when last asked (ipv4only.arpa); absent or null: not asked (yet) */
  verification?: Verification | null;
}

export interface StateSnapshot {
  version: 1;
  pid: number;
  config: string;
  updated_at: string;
  round: number;
  round_ms: number | null;
  next_round_at: string | null;
  failsafe: boolean;
  dry_run: boolean;
  active: string[];
  draining: string[];
  /** when each draining prefix started draining (also prefixes no longer configured) */
  draining_since?: Record<string, string>;
  target_faults: string[];
  prefixes: PrefixStatus[];
  targets: TargetStatus[];
  applies: AppliedRecord[];
  last_config_reload: { at: string; ok: boolean; error?: string } | null;
}

export async function writeState(file: string, snapshot: StateSnapshot): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(snapshot, null, 2) + '\n');
}

export async function readState(file: string): Promise<StateSnapshot> {
  const text = await fs.readFile(file, 'utf8');
  const data = JSON.parse(text) as StateSnapshot;
  if (data?.version !== 1 || !Array.isArray(data.prefixes)) throw new Error(`${file} is not a nat64-health state file`);
  return data;
}
