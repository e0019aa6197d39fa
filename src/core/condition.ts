// The condition of the set as a whole when no prefix is eligible, in one wording for every place
// that shows it. Pure.
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
  prefixes: ReadonlyArray<{ maintenance?: object | null }>;
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
