/** Polls fn until it returns something other than undefined, null or false (a thrown error counts as "not yet"). */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  everyMs = 100,
  /** extra text for the timeout error, e.g. the tail of a daemon's log */
  context?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${String(last)}` : last ? `: ${JSON.stringify(last)}` : '';
      const extra = context ? `\n${await context().catch(() => '')}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${extra}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
