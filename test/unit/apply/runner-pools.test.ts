// With client pools the runner tells each pool's set before and after, to the on_change hook
// (`changed`) and to the apply history (`applied`): a change of a pool's set alone (the default
// pool's set the same) is a change of what the target serves. Fake target, no BIND.
import { describe, expect, it } from 'vitest';
import type { ApplyOutcome, ApplyTarget } from '../../../src/apply/target.js';
import { TargetRunner, type ApplyReport, type OfferContext, type ServedChange } from '../../../src/apply/runner.js';
import { createLogger } from '../../../src/lib/log.js';
import { A, B, C } from '../../support/prefixes.js';

class Fake implements ApplyTarget {
  readonly name = 'local';
  verification = null;
  apply(): Promise<ApplyOutcome> {
    return Promise.resolve({ target: this.name, result: 'applied', ms: 1 });
  }
  close() {
    return Promise.resolve();
  }
}

function runner() {
  const changed: ServedChange[] = [];
  const reports: ApplyReport[] = [];
  const r = new TargetRunner(new Fake(), 'k', 'o', {
    log: createLogger({ level: 'error' }),
    now: Date.now,
    dryRun: false,
    recorded: () => {},
    fields: () => ({}),
    changed: (_r, c) => changed.push(c),
    applied: (_r, rep) => reports.push(rep),
  });
  /** the text a decision renders: every pool's set in it, as the ACLs would be */
  const offer = (defaultSet: string[], pools?: Record<string, string[]>) => {
    const context: OfferContext = { draining: [], changes: [], ...(pools ? { pools } : {}) };
    const text = JSON.stringify({ defaultSet, pools });
    return r.offer(text, defaultSet, 'why', context);
  };
  return { changed, reports, offer };
}

describe('runner: client pools', () => {
  it("a change of a pool's set alone runs the hook, with each pool's sets before and after", async () => {
    const { changed, offer } = runner();
    await offer([A], { 'site-a': [A], 'site-b': [B] });
    await offer([A], { 'site-a': [A], 'site-b': [B] }); // the same text: nothing
    await offer([A], { 'site-a': [B], 'site-b': [B] }); // site A's moved; the default pool's did not
    expect(changed.map((c) => [c.old, c.new, c.pools])).toEqual([
      [
        null,
        [A],
        { 'site-a': { old: null, new: [A] }, 'site-b': { old: null, new: [B] }, default: { old: null, new: [A] } },
      ],
      [
        [A],
        [A],
        { 'site-a': { old: [A], new: [B] }, 'site-b': { old: [B], new: [B] }, default: { old: [A], new: [A] } },
      ],
    ]);
    expect(Object.keys(changed[1]!.pools!)).toEqual(['site-a', 'site-b', 'default']);
  });

  it("the history's report has the same sets; a pool the config just added was not known before", async () => {
    const { reports, offer } = runner();
    await offer([A], { 'site-a': [A] });
    await offer([B], { 'site-a': [A], 'site-b': [C] });
    expect(reports.map((r) => r.pools)).toEqual([
      { 'site-a': { old: null, new: [A] }, default: { old: null, new: [A] } },
      { 'site-a': { old: [A], new: [A] }, 'site-b': { old: null, new: [C] }, default: { old: [A], new: [B] } },
    ]);
  });

  it('without pools neither the hook nor the history gets `pools`; pools the config dropped are not told', async () => {
    const { changed, reports, offer } = runner();
    await offer([A]);
    await offer([B]);
    expect(changed.map((c) => Object.keys(c))).toEqual([
      ['old', 'new', 'draining', 'reason', 'changes', 'at'],
      ['old', 'new', 'draining', 'reason', 'changes', 'at'],
    ]);
    expect(reports.every((r) => !('pools' in r))).toBe(true);
    await offer([B], { 'site-a': [B] }); // pools configured by a reload: none known before
    expect(changed.at(-1)!.pools).toEqual({ 'site-a': { old: null, new: [B] }, default: { old: [B], new: [B] } });
    await offer([B]); // and taken out again
    expect(changed.at(-1)).not.toHaveProperty('pools');
  });
});
