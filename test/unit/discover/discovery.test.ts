// The discovered set of one source over time, with a fake clock (rules in src/discover/discovery.ts).
import { describe, expect, it } from 'vitest';
import { initialDiscovery, nextDiscovery, type DiscoveryResult } from '../../../src/discover/discovery.js';
import { rulesInDocs, rulesInSource } from '../../support/doc-rules.js';

const S = { min_refresh: 60_000, max_refresh: 3_600_000, keep: 600_000 };
const A = '2001:db8:64:e::/96';
const B = '2001:db8:65:1::/64';
const C = '2001:db8:66::/96';
const ok = (prefixes: string[], ttl: number | null = 300): DiscoveryResult => ({ ok: true, prefixes, ttl });
const fail = (error = 'no answer'): DiscoveryResult => ({ ok: false, error });

describe('nextDiscovery', () => {
  it('a usable answer is the set; the next query when its TTL ends', () => {
    const s = nextDiscovery(initialDiscovery(0), ok([B, A]), 1000, S);
    expect(s.state).toEqual({ prefixes: [A, B], answered_at: 1000, next_at: 301_000, error: null, kept_until: null });
    expect(s.appeared).toEqual([A, B]);
    expect(s.disappeared).toEqual([]);
  });

  it('the TTL is held between min_refresh and max_refresh; no TTL: min_refresh', () => {
    expect(nextDiscovery(initialDiscovery(0), ok([A], 0), 0, S).state.next_at).toBe(60_000);
    expect(nextDiscovery(initialDiscovery(0), ok([A], 86_400), 0, S).state.next_at).toBe(3_600_000);
    expect(nextDiscovery(initialDiscovery(0), ok([A], null), 0, S).state.next_at).toBe(60_000);
  });

  it('a changed answer: what appeared and what disappeared', () => {
    const first = nextDiscovery(initialDiscovery(0), ok([A, B]), 0, S).state;
    const s = nextDiscovery(first, ok([A, C]), 300_000, S);
    expect(s.state.prefixes).toEqual([A, C]);
    expect(s.appeared).toEqual([C]);
    expect(s.disappeared).toEqual([B]);
  });

  it('no usable answer: the last set is kept until `keep` after the last answer, then it is empty', () => {
    const first = nextDiscovery(initialDiscovery(0), ok([A, B]), 0, S).state;
    const t1 = nextDiscovery(first, fail('no answer from x'), 300_000, S);
    expect(t1.state).toEqual({
      prefixes: [A, B],
      answered_at: 0,
      next_at: 360_000,
      error: 'no answer from x',
      kept_until: 600_000,
    });
    expect(t1.disappeared).toEqual([]);
    // the retry is due no later than the moment the kept set is dropped
    const t2 = nextDiscovery(t1.state, fail(), 590_000, S);
    expect(t2.state.next_at).toBe(600_000);
    const t3 = nextDiscovery(t2.state, fail(), 600_000, S);
    expect(t3.state).toMatchObject({ prefixes: [], kept_until: null, next_at: 660_000, answered_at: 0 });
    expect(t3.disappeared).toEqual([A, B]);
    // an answer brings them back
    expect(nextDiscovery(t3.state, ok([A]), 700_000, S).appeared).toEqual([A]);
  });

  it('an answer without a well-known address counts as no answer (the set is kept), with its own error', () => {
    const first = nextDiscovery(initialDiscovery(0), ok([A]), 0, S).state;
    const s = nextDiscovery(first, ok([], 300), 60_000, S);
    expect(s.state.prefixes).toEqual([A]);
    expect(s.state.error).toMatch(/neither 192\.0\.0\.170 nor 192\.0\.0\.171/);
    expect(s.state.kept_until).toBe(600_000);
  });

  it('never answered: nothing to keep', () => {
    const s = nextDiscovery(initialDiscovery(0), fail('garbage'), 0, S);
    expect(s.state).toEqual({ prefixes: [], answered_at: null, next_at: 60_000, error: 'garbage', kept_until: null });
    expect(s.appeared).toEqual([]);
  });

  it('keep: 0 drops the set at the first failure', () => {
    const first = nextDiscovery(initialDiscovery(0), ok([A]), 0, { ...S, keep: 0 }).state;
    expect(nextDiscovery(first, fail(), 1, { ...S, keep: 0 }).disappeared).toEqual([A]);
  });

  it('states the same rules as docs/rules.md, word for word', () => {
    const first = '1. A usable answer';
    expect(rulesInDocs(first)).toBe(rulesInSource('src/discover/discovery.ts', first));
  });
});
