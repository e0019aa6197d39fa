// Comparing what BIND answered for ipv4only.arpa with the decided set (the query itself runs against
// a real named in test/integration/apply/verify.test.ts).
import { describe, expect, it } from 'vitest';
import { compareServed } from '../../../src/apply/verify.js';
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
