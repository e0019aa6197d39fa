import { describe, expect, it } from 'vitest';
import { LatencyHistory } from '../../../src/observe/history.js';
import {
  downsample,
  escapeHtml,
  latencyChart,
  niceCeil,
  refreshSeconds,
  renderStatusPage,
} from '../../../src/observe/status-page.js';
import {
  A,
  apply,
  B,
  C,
  deadPrefix,
  discoverySource,
  pooledSnapshot,
  prefix,
  snapshot,
  T0,
} from '../../support/observe-fixtures.js';

describe('latency history', () => {
  it('keeps at most `capacity` rounds per prefix and only the window when read', () => {
    const h = new LatencyHistory(60_000, 5);
    for (let i = 0; i < 8; i++) h.record(A, T0 + i * 1000, i === 3 ? null : 10 + i);
    expect(h.size(A)).toBe(5);
    const pts = h.points(A, T0 + 7000);
    expect(pts.map((p) => p.t)).toEqual([3, 4, 5, 6, 7].map((i) => T0 + i * 1000));
    expect(pts[0]!.latency_ms).toBeNull();
    expect(pts[4]!.latency_ms).toBe(17);
    // the first two are older than the window
    expect(h.points(A, T0 + 65_000).map((p) => p.t)).toEqual([T0 + 5000, T0 + 6000, T0 + 7000]);
    expect(h.points(B, T0)).toEqual([]);
  });

  it('forgets unconfigured prefixes and restarts on a clock step back', () => {
    const h = new LatencyHistory();
    h.record(A, T0, 1);
    h.record(B, T0, 1);
    h.retain([A]);
    expect(h.prefixes()).toEqual([A]);
    h.record(A, T0 - 10_000, 2);
    expect(h.points(A, T0).map((p) => p.latency_ms)).toEqual([2]);
  });

  it('stays bounded over a long run', () => {
    const h = new LatencyHistory(3_600_000, 3600);
    for (let i = 0; i < 20_000; i++) h.record(A, T0 + i * 500, 5);
    expect(h.size(A)).toBe(3600);
    expect(h.points(A, T0 + 20_000 * 500).length).toBe(3600);
  });
});

describe('chart', () => {
  const window = 3_600_000;
  it('draws a line through good rounds, broken at bad ones, with ticks for the bad', () => {
    const points = [0, 1, 2, 3, 4, 5].map((i) => ({ t: T0 - (6 - i) * 30_000, latency_ms: i === 3 ? null : 10 + i }));
    const svg = latencyChart(points, { now: T0, windowMs: window, maxMs: 20 });
    expect(svg).toMatch(/^<svg class="chart"/);
    expect(svg).toContain('data-points="6"');
    expect(svg).toContain('data-drawn="5"');
    expect(svg).toContain('data-bad="1"');
    const d = /<path class="latency" d="([^"]+)"/.exec(svg)![1]!;
    expect(d.match(/M/g)).toHaveLength(2); // two segments around the bad round
    expect(d.match(/L/g)).toHaveLength(3);
    expect(svg.match(/<rect class="bad"/g)).toHaveLength(1);
  });

  it('says so when there is no data, and downsamples long series', () => {
    expect(latencyChart([], { now: T0, windowMs: window, maxMs: 1 })).toContain('no data yet');
    const many = Array.from({ length: 3600 }, (_, i) => ({
      t: T0 - window + i * 1000,
      latency_ms: i % 100 === 0 ? null : 5,
    }));
    const ds = downsample(many, 240);
    expect(ds.length).toBeLessThanOrEqual(240);
    expect(ds.filter((p) => p.bad).length).toBe(36);
    const svg = latencyChart(many, { now: T0, windowMs: window, maxMs: 10 });
    expect(svg.length).toBeLessThan(20_000);
  });

  it('nice scale and refresh period', () => {
    expect(niceCeil(13)).toBe(20);
    expect(niceCeil(0.3)).toBe(0.5);
    expect(niceCeil(100)).toBe(100);
    expect(niceCeil(0)).toBe(1);
    expect(refreshSeconds(null, T0)).toBe(2);
    expect(refreshSeconds(snapshot({ next_round_at: new Date(T0 + 4200).toISOString() }), T0)).toBe(6);
    expect(refreshSeconds(snapshot({ next_round_at: new Date(T0 + 300_000).toISOString() }), T0)).toBe(30);
  });
});

describe('status page', () => {
  it('lists each prefix with state, group, role, chart, and the last applies', () => {
    const h = new LatencyHistory();
    for (let i = 0; i < 10; i++) {
      h.record(A, T0 - (10 - i) * 5000, 10 + i);
      h.record(B, T0 - (10 - i) * 5000, null);
    }
    const s = snapshot({
      prefixes: [
        prefix(A, { name: 'gw-a', group: 'east' }),
        deadPrefix(B, {
          name: 'gw-b',
          group: 'west',
          draining: true,
          draining_since: new Date(T0 - 120_000).toISOString(),
        }),
      ],
      applies: [
        apply({ result: 'failed', stage: 'reload', error: 'rndc: <failure>', at: new Date(T0).toISOString() }),
        apply({ at: new Date(T0 - 60_000).toISOString() }),
      ],
    });
    const html = renderStatusPage({ snapshot: s, history: h, now: T0 });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta http-equiv="refresh" content="6">');
    expect(html).not.toMatch(/<script|https?:\/\/(?!localhost)/i); // self-contained: no script, no external asset
    const rowA = /<tr class="prefix" data-prefix="2001:db8:64:a::\/96"[^]*?<\/tr>/.exec(html)![0];
    expect(rowA).toContain('data-state="up"');
    expect(rowA).toContain('data-role="active"');
    expect(rowA).toContain('gw-a');
    expect(rowA).toContain('east');
    expect(rowA).toMatch(/<path class="latency" d="M[^"]+L/);
    const rowB = /<tr class="prefix" data-prefix="2001:db8:64:b::\/96"[^]*?<\/tr>/.exec(html)![0];
    expect(rowB).toContain('data-state="down"');
    expect(rowB).toContain('draining since 2m00s ago');
    expect(rowB).not.toContain('class="latency"');
    expect(rowB).toContain('data-bad="10"');
    expect(html).toContain('rndc: &lt;failure&gt;'); // escaped
    expect(html.match(/data-apply-result=/g)).toHaveLength(2);
    expect(html).toContain('selection changed: 2001:db8:64:a::/96 activated');
  });

  it('links each apply that has an entry in the apply history to it, escaped', () => {
    const s = snapshot({
      applies: [apply({ at: new Date(T0).toISOString() }), apply({ at: new Date(T0 - 1).toISOString() })],
    });
    const page = renderStatusPage({
      snapshot: s,
      history: new LatencyHistory(),
      now: T0,
      applyLink: (a) => (a.at === s.applies[0]!.at ? { href: '/history/local/9?"x', text: '#9' } : null),
    });
    const rows = page.match(/<tr data-apply-result=[^]*?<\/tr>/g)!;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('<a class="diff" href="/history/local/9?&quot;x">#9</a>');
    expect(rows[1]).not.toContain('<a class="diff"');
    expect(page).toContain('<th>Diff</th>');
    expect(page).toContain('<a href="/history.json">/history.json</a>');
  });

  it('says it is waiting before the first round, and shows the fail-safe', () => {
    expect(renderStatusPage({ snapshot: null, history: new LatencyHistory(), now: T0 })).toContain(
      'Waiting for the first probe round',
    );
    const html = renderStatusPage({ snapshot: snapshot({ failsafe: true }), history: new LatencyHistory(), now: T0 });
    expect(html).toContain('id="failsafe"');
    expect(html).toContain('FAIL-SAFE: no prefix passed its probes; keeping the last good set.');
  });

  it('every prefix in maintenance has its own banner, not the fail-safe one (regression)', () => {
    const m = { reason: 'upgrade', since: new Date(T0).toISOString(), until: null };
    const held = [prefix(A, { active: false, draining: true, maintenance: m }), deadPrefix(B, { maintenance: m })];
    const html = renderStatusPage({
      snapshot: snapshot({ prefixes: held, active: [] }),
      history: new LatencyHistory(),
      now: T0,
    });
    expect(html).toContain('id="all-in-maintenance"');
    expect(html).toContain('ALL IN MAINTENANCE: every prefix (2) is in maintenance');
    expect(html).not.toContain('FAIL-SAFE');
  });

  it('lists each discovery source: its prefixes, when it answered, the error and the kept set', () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const source = (s: string, over: Parameters<typeof discoverySource>[1]) =>
      discoverySource(s, { group: 'isp', ...over });
    const discovery = [
      source('[2001:db8:53::1]:53', { prefixes: [A, B], answered_at: iso(T0 - 120_000) }),
      source('[2001:db8:53::2]:53', {
        prefixes: [A],
        answered_at: iso(T0 - 600_000),
        error: 'no answer <from> it',
        kept_until: iso(T0 + 3_000_000),
      }),
      source('[2001:db8:53::3]:53', { error: 'not a DNS message' }),
    ];
    const html = renderStatusPage({ snapshot: snapshot({ discovery }), history: new LatencyHistory(), now: T0 });
    expect(html).toContain('<table id="discovery">');
    const row = (s: string) => new RegExp(`<tr class="discovery" data-source="\\[${s}\\]:53"[^]*?</tr>`).exec(html)![0];
    expect(row('2001:db8:53::1')).toContain('data-discovery="answering" data-prefixes="2"');
    expect(row('2001:db8:53::1')).toContain(`<code>${A}</code> <code>${B}</code>`);
    expect(row('2001:db8:53::1')).toContain('2m00s ago');
    expect(row('2001:db8:53::2')).toContain('data-discovery="kept"');
    expect(row('2001:db8:53::2')).toContain('no answer &lt;from&gt; it; last set kept until');
    expect(row('2001:db8:53::3')).toContain('data-discovery="failing" data-prefixes="0"');
    expect(row('2001:db8:53::3')).toContain('not a DNS message; no set kept');
    expect(row('2001:db8:53::3')).toContain('never');
    // no source configured: no section
    const none = renderStatusPage({ snapshot: snapshot(), history: new LatencyHistory(), now: T0 });
    expect(none).not.toContain('id="discovery"');
  });

  it('shows per target whether BIND serves the decided set', () => {
    const at = new Date(T0 - 1000).toISOString();
    const html = renderStatusPage({
      snapshot: snapshot({
        targets: [
          { name: 'local', last_apply: apply({ at }), serving: [A] },
          {
            name: 'dns64-2',
            last_apply: apply({ at, target: 'dns64-2' }),
            serving: [A],
            verification: {
              at,
              ok: false,
              served: [B],
              decided: [A],
              detail: `BIND serves ${B}, not the decided ${A}`,
            },
          },
        ],
      }),
      history: new LatencyHistory(),
      now: T0,
    });
    expect(html).toContain('<th>BIND serves it</th>');
    expect(html).toContain('<span class="muted">not checked</span>');
    expect(html).toContain(`<span class="badge failed">no</span> 1s ago: BIND serves ${B}, not the decided ${A}`);
  });

  it("with pools: the pools using each prefix, its role over all pools, each pool's set (the default's first)", () => {
    const page = renderStatusPage({ snapshot: pooledSnapshot(), history: new LatencyHistory(), now: T0 });
    const row = (id: string) => new RegExp(`<tr class="prefix" data-prefix="${id}"[^]*?</tr>`).exec(page)![0];
    expect(page).toContain('<th>Role</th><th>Pools</th><th>Latency</th>');
    expect(row(A)).toContain('data-role="active" data-pools="default site-a"');
    expect(row(A)).toContain('<td>default, site-a</td>');
    // active for site-b only: active, although not in the default pool's set
    expect(row(B)).toContain('data-role="active" data-pools="site-b"');
    expect(row(C)).toContain('data-role="draining" data-pools=""');
    expect(row(C)).toContain('draining since 30s ago</td><td>-</td>');
    expect(page).toContain(`active: ${A}, ${B} (3 pools)`);
    expect(page).toContain('<title>nat64-health · 2 active</title>');
    const pools = [
      ...page.matchAll(/<tr class="pool" data-pool="([^"]*)" data-active="([^"]*)" data-draining="([^"]*)">/g),
    ];
    expect(pools.map((m) => m.slice(1))).toEqual([
      ['default', A, ''],
      ['site-a', A, ''],
      ['site-b', B, C],
    ]);
    const siteB = /<tr class="pool" data-pool="site-b"[^]*?<\/tr>/.exec(page)![0];
    expect(siteB).toContain(`<code>${B}</code> gw-b`);
    const since = new Date(T0 - 30_000).toISOString();
    expect(siteB).toContain(`<code>${C}</code> public <span class="muted" title="${since}">since 30s ago</span>`);
    // a pool without a prefix says so
    const empty = pooledSnapshot({ pools: [{ name: 'site-a', active: [], draining_since: {}, failsafe: false }] });
    const emptyPage = renderStatusPage({ snapshot: empty, history: new LatencyHistory(), now: T0 });
    expect(/<tr class="pool" data-pool="site-a"[^]*?<\/tr>/.exec(emptyPage)![0]).toContain(
      '<span class="badge down">none</span>',
    );
  });

  it('without pools: no pools section, no pools column', () => {
    const page = renderStatusPage({ snapshot: snapshot(), history: new LatencyHistory(), now: T0 });
    expect(page).not.toMatch(/pool/i);
  });

  it('escapes everything that comes from outside', () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&`)).toBe(
      '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;',
    );
    const html = renderStatusPage({
      snapshot: snapshot({
        config: '/etc/<x>.yaml',
        last_config_reload: { at: new Date(T0).toISOString(), ok: false, error: '<b>bad</b>' },
      }),
      history: new LatencyHistory(),
      now: T0,
    });
    expect(html).not.toContain('<x>');
    expect(html).not.toContain('<b>bad');
  });
});
