/** What one probe of one target through one prefix found. */
export interface ProbeOutcome {
  /** prefix id (canonical prefix text) */
  prefix: string;
  /** probe id, e.g. "tcp 192.0.2.10:80" */
  probe: string;
  /** the synthesized IPv6 address that was probed */
  address: string;
  ok: boolean;
  /** time to the answer that decided the outcome, ms (also set for failures, e.g. the timeout) */
  latency_ms: number;
  error?: string;
}

/** A single check: resolves (never rejects) with ok/error and the time it took. */
export type ProbeResult = Pick<ProbeOutcome, 'ok' | 'latency_ms' | 'error'>;

export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

/** A short, stable error text: the errno code when there is one ("ECONNREFUSED"), else the message. */
export function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}
