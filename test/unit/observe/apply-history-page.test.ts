import { describe, expect, it } from 'vitest';
import { historyPath, parseHistoryPath, renderHistoryEntryPage } from '../../../src/observe/apply-history-page.js';
import { historyEntry, poolsHistoryEntry } from '../../support/history-fixtures.js';
import { A, B, T0 } from '../../support/observe-fixtures.js';

describe('apply history page', () => {
  it('has a path per entry, and reads only such paths back', () => {
    expect(historyPath({ target: 'dns64-2', id: 12 })).toBe('/history/dns64-2/12');
    expect(parseHistoryPath('/history/dns64-2/12')).toEqual({ target: 'dns64-2', id: 12 });
    expect(parseHistoryPath(historyPath({ target: 'a:b+c', id: 3 }))).toEqual({ target: 'a:b+c', id: 3 });
    for (const bad of [
      '/history/',
      '/history/local',
      '/history/local/0',
      '/history/local/x',
      '/history/a/b/1',
      '/history/%E0/1',
    ])
      expect(parseHistoryPath(bad), bad).toBeNull();
  });

  it('shows the outcome, sets, reasons, verification and the diff line by line', () => {
    const page = renderHistoryEntryPage(historyEntry({ id: 7 }), T0 + 60_000);
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script|https?:\/\//i);
    expect(page).toContain('<h1>local: apply #7</h1>');
    expect(page).toContain('(1m00s ago)');
    expect(page).toContain('<span class="badge applied">applied</span>');
    expect(page).toContain(`<dt>Set before</dt><dd>${A}</dd>`);
    expect(page).toContain(`<dt>Set after</dt><dd>${B} (+${B} -${A})</dd>`);
    expect(page).toContain(`BIND serves the decided set: ${B}`);
    expect(page).toContain('<h2>What was written</h2>');
    expect(page).toContain(`<span class="del">-dns64 ${A} { clients { any; }; };</span>`);
    expect(page).toContain(`<span class="add">+dns64 ${B} { clients { any; }; };</span>`);
    expect(page).toContain('<span class="hunk">@@ -1,1 +1,2 @@</span>');
  });

  it('a failure: its stage and error, what it would have written, the repeats', () => {
    const page = renderHistoryEntryPage(
      historyEntry({
        outcome: 'validation failed',
        stage: 'validate',
        error: 'named-checkconf: bad',
        verification: null,
        attempts: 3,
        last_at: new Date(T0 + 4000).toISOString(),
      }),
      T0,
    );
    expect(page).toContain('<span class="badge failed">validation failed</span>');
    expect(page).toContain('<dd class="failed">validate: named-checkconf: bad</dd>');
    expect(page).toContain('What it would have written (not live)');
    expect(page).toContain('failed 3 times');
    expect(page).toContain('<dt>BIND serves it</dt><dd>not asked</dd>');
    expect(renderHistoryEntryPage(historyEntry({ diff: '' }), T0)).toContain('The text did not change');
  });

  it('escapes everything that comes from the file', () => {
    const page = renderHistoryEntryPage(
      historyEntry({ reason: '<script>x</script>', diff: '+<img src=x onerror=alert(1)>\n', target: '"t' }),
      T0,
    );
    expect(page).not.toContain('<script>x');
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(page).toContain('<span class="add">+&lt;img src=x onerror=alert(1)&gt;</span>');
    expect(page).toContain('&quot;t: apply #1');
  });

  it("with pools: each pool's sets instead of the one set, each change with its pool", () => {
    const page = renderHistoryEntryPage(poolsHistoryEntry(), T0);
    expect(page).toContain(
      `<dt>Sets</dt><dd><ul><li><code>site-a</code>: ${A} → ${B} (+${B} -${A})</li>` +
        `<li><code>site-b</code>: ${B} → ${B} (same set)</li>` +
        `<li><code>default</code>: ${A} → ${B} (+${B} -${A})</li></ul></dd>`,
    );
    expect(page).not.toContain('Set before');
    expect(page).toContain(`<li><code>site-a</code>: <code>${A}</code> deactivated: down</li>`);
    expect(page).toContain(`<li><code>default</code>: <code>${B}</code> activated: up</li>`);
    // without pools a change has no pool label
    expect(renderHistoryEntryPage(historyEntry(), T0)).toContain(`<li><code>${A}</code> deactivated: down</li>`);
    const evil = renderHistoryEntryPage(poolsHistoryEntry({ pools: { '<b>': { old: null, new: [A] } } }), T0);
    expect(evil).toContain('<code>&lt;b&gt;</code>: not known → ');
  });
});
