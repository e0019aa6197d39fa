// Comparing what BIND answered for ipv4only.arpa with the decided set (the query itself runs against
// a real named in test/integration/apply/verify.test.ts).
import { describe, expect, it } from 'vitest';
import { comparePools, compareServed } from '../../../src/apply/verify.js';
import { A, B } from '../../support/prefixes.js';

describe('compareServed', () => {
  it('the same set in any order matches', () => {
    expect(compareServed([A, B], { ok: true, prefixes: [B, A] })).toMatchObject({ ok: true, served: [B, A] });
    expect(compareServed([], { ok: true, prefixes: [] }).ok).toBe(true);
  });

  it('names what is missing and what is not decided', () => {
    const v = compareServed([A], { ok: true, prefixes: [B] });
    expect(v).toMatchObject({ ok: false, served: [B] });
    expect(v.detail).toMatch(
      /^BIND serves 2001:db8:64:b::\/96, not the decided 2001:db8:64:a::\/96; missing .*a::\/96; not decided .*b::\/96/,
    );
  });

  it('no prefix at all while some are decided: the forwarding hint; no answer: the error', () => {
    expect(compareServed([A], { ok: true, prefixes: [] }).detail).toMatch(/zone "ipv4only\.arpa"/);
    expect(compareServed([A], { ok: false, error: 'no answer' })).toEqual({
      ok: false,
      served: null,
      detail: 'no answer',
    });
  });
});

describe('comparePools (issue 21: each client pool asked as one of its clients)', () => {
  const decided = { default: [A], 'site-a': [A, B], 'site-b': [B] };
  const served = (...prefixes: string[]) => ({ ok: true as const, prefixes });

  it('only the default pool asked: its verdict as ever, not named', () => {
    const v = comparePools(decided, [{ pool: 'default', answer: served(A) }]);
    expect(v).toEqual({
      ok: true,
      detail: compareServed([A], served(A)).detail,
      pools: [{ pool: 'default', decided: [A], ...compareServed([A], served(A)) }],
    });
  });

  it("each answer is compared with its own pool's set: ok only when all are, the detail names each pool", () => {
    const v = comparePools(decided, [
      { pool: 'default', answer: served(A) },
      { pool: 'site-a', answer: served(B, A) },
      { pool: 'site-b', answer: served(B) },
    ]);
    expect(v.ok).toBe(true);
    expect(v.pools.map((p) => [p.pool, p.ok, p.decided])).toEqual([
      ['default', true, [A]],
      ['site-a', true, [A, B]],
      ['site-b', true, [B]],
    ]);
    expect(v.detail).toBe(
      `pool default: BIND serves the decided set: ${A}; pool site-a: BIND serves the decided set: ${A}, ${B};` +
        ` pool site-b: BIND serves the decided set: ${B}`,
    );
  });

  it("a pool served another pool's set is a mismatch of that pool alone, and the detail names only it", () => {
    // site-b's asker got the default pool's set: e.g. its clients ACL does not admit it
    const v = comparePools(decided, [
      { pool: 'default', answer: served(A) },
      { pool: 'site-b', answer: served(A) },
    ]);
    expect(v.ok).toBe(false);
    expect(v.pools.map((p) => [p.pool, p.ok, p.served])).toEqual([
      ['default', true, [A]],
      ['site-b', false, [A]],
    ]);
    expect(v.detail).toMatch(new RegExp(`^pool site-b: BIND serves ${A.replace(/[.:/]/g, '\\$&')}, not the decided`));
    expect(v.detail).not.toContain('pool default');
  });

  it('no answer for one pool; a pool the decision does not know is a mismatch, not skipped', () => {
    const v = comparePools(decided, [
      { pool: 'default', answer: { ok: false, error: 'no answer' } },
      { pool: 'site-c', answer: served(A) },
    ]);
    expect(v.pools).toEqual([
      { pool: 'default', decided: [A], ok: false, served: null, detail: 'no answer' },
      { pool: 'site-c', decided: [], ok: false, served: null, detail: 'no decided set for pool site-c' },
    ]);
    expect(v.detail).toBe('pool default: no answer; pool site-c: no decided set for pool site-c');
    // names of Object.prototype's members are pool names like any other
    expect(comparePools(decided, [{ pool: 'constructor', answer: served(A) }]).ok).toBe(false);
  });
});
