// The status page's style sheet, inline in the page (no external assets); light and dark.
import { html } from './html.js';

export const STYLE = html`<style>
  :root {
    color-scheme: light dark;
    --fg: #1b1f24;
    --muted: #5b636e;
    --bg: #fff;
    --line: #d8dde3;
    --up: #16794a;
    --down: #c62828;
    --unk: #9a6700;
    --accent: #2f6fdd;
  }
  @media (prefers-color-scheme: dark) {
    :root {
      --fg: #e6e9ed;
      --muted: #9aa4af;
      --bg: #14171b;
      --line: #30363d;
      --up: #3fb950;
      --down: #f85149;
      --unk: #d29922;
      --accent: #58a6ff;
    }
  }
  body {
    font:
      14px/1.4 system-ui,
      -apple-system,
      'Segoe UI',
      sans-serif;
    color: var(--fg);
    background: var(--bg);
    margin: 1.5rem auto;
    max-width: 72rem;
    padding: 0 1rem;
  }
  h1 {
    font-size: 1.3rem;
    margin: 0 0 0.25rem;
  }
  h2 {
    font-size: 1.05rem;
    margin: 1.5rem 0 0.4rem;
  }
  .meta,
  .muted {
    color: var(--muted);
  }
  code {
    font:
      13px ui-monospace,
      SFMono-Regular,
      Menlo,
      monospace;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 0.3rem 0.6rem;
    border-bottom: 1px solid var(--line);
    vertical-align: middle;
  }
  th {
    font-weight: 600;
    color: var(--muted);
    font-size: 12px;
    text-transform: uppercase;
    letter-spacing: 0.03em;
  }
  td.num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  .badge {
    display: inline-block;
    padding: 0 0.45rem;
    border-radius: 0.6rem;
    font-size: 12px;
    font-weight: 600;
    border: 1px solid currentColor;
  }
  .up {
    color: var(--up);
  }
  .down,
  .failed {
    color: var(--down);
  }
  .unknown,
  .draining,
  .dry-run {
    color: var(--unk);
  }
  .active {
    color: var(--accent);
  }
  .applied {
    color: var(--up);
  }
  .banner {
    padding: 0.5rem 0.8rem;
    border-radius: 0.3rem;
    margin: 0.6rem 0;
    border: 1px solid var(--down);
    color: var(--down);
  }
  .banner.warn {
    border-color: var(--unk);
    color: var(--unk);
  }
  svg.chart {
    display: block;
  }
  svg.chart .latency {
    fill: none;
    stroke: var(--accent);
    stroke-width: 1.5;
  }
  svg.chart .latest {
    fill: var(--accent);
  }
  svg.chart .bad {
    fill: var(--down);
  }
  svg.chart .axis {
    stroke: var(--line);
  }
  svg.chart text {
    fill: var(--muted);
    font-size: 11px;
  }
  footer {
    margin-top: 2rem;
    font-size: 12px;
  }
  a {
    color: var(--accent);
  }
</style>`;
