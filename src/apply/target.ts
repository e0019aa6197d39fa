// What an apply target is and what an apply reports: the contract between the daemon's runners
// (runner.ts) and the BIND pipeline (pipeline.ts) or a test's stand-in.

export type ApplyStage = 'connect' | 'prepare' | 'validate' | 'write' | 'reload';

export interface ApplyOutcome {
  target: string;
  result: 'unchanged' | 'applied' | 'failed' | 'dry-run';
  stage?: ApplyStage;
  error?: string;
  /** the previous file was restored after a failed reload */
  rolled_back?: boolean;
  /** the apply went through, but not everything was as asked (an owner not kept, an fsync failed) */
  warnings?: string[];
  ms: number;
  reload_ms?: number;
  /**
   * The output as it was and as it is (or, failed, would have been) after this apply, for the apply
   * history's diff (block mode: the managed block); absent when the file was not read. Not part of
   * the state file.
   */
  output?: { file: string; before: Buffer | null; after: Buffer };
}

export interface ApplyOptions {
  dryRun?: boolean;
  /** reload even when the file already holds the text (BIND was found serving something else) */
  reload?: boolean;
  /**
   * writing back an output that drifted: no reload when the file was missing (BIND cannot have
   * loaded a configuration without it), unless one is pending anyway
   */
  repair?: boolean;
}

/** How a target's output differs from what was written there (drift). */
export interface Drift {
  /** the output, as messages name it */
  file: string;
  /** what differed, in words: "the file was removed", "the managed block was edited" */
  detail: string;
}

/** What BIND answers for ipv4only.arpa, as prefixes, or why that could not be found out. */
export type ServedAnswer =
  | { ok: true; prefixes: string[] }
  /** `unanswered`: nothing answered within the timeouts (or the question could not be asked) */
  | { ok: false; error: string; unanswered?: true };

/** How a target's BIND is asked what it serves, as a client of the default pool and of some client pools. */
export interface Verifier {
  /** ms between checks while nothing is applied */
  interval: number;
  /** the client pools asked besides the default one, in config order; absent: none */
  pools?: readonly string[];
  /** what BIND serves a client of `pool` (absent: of the default pool) */
  ask(pool?: string): Promise<ServedAnswer>;
}

/** What the daemon's runners drive: BindTarget, or a test's stand-in. */
export interface ApplyTarget {
  readonly name: string;
  /** applies cross the network (SSH): the daemon runs them without holding its rounds for them */
  readonly background?: boolean;
  apply(rendered: string, opts?: ApplyOptions): Promise<ApplyOutcome>;
  /** how to ask BIND what it serves; absent or null: verification is off */
  verification?: Verifier | null;
  /** the live file may hold text BIND has not loaded */
  reloadPending?: boolean;
  /** how the output differs from what this rendered text makes of it (null: it does not); absent: not looked at */
  drift?(rendered: string): Promise<Drift | null>;
  close(): Promise<void>;
}

export interface BindSettings {
  mode: 'include' | 'block';
  /** absolute path on the target's host */
  output: string;
  checkconf: string[];
  reload: string[];
  /** ms, for each command */
  command_timeout: number;
}

export interface TargetCheck {
  check: string;
  ok: boolean;
  detail: string;
}
