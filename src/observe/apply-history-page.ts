// One apply of the history as a page (/history/TARGET/ID, linked from the status page's applies):
// when, how it ended, the sets, the reasons and the diff of what was written. Self-contained like
// the status page (inline style, no script); every value goes through the `html` tag.
import type { HistoryEntry } from '../apply/history.js';
import { changePool, setChange } from '../apply/history.js';
import { formatAgo, formatMs, formatTime } from '../lib/format.js';
import { html, type Html } from './html.js';
import { STYLE } from './status-style.js';

const DIFF_STYLE = html`<style>
  pre.diff { border: 1px solid var(--line); padding: 0.5rem; overflow-x: auto; }
  pre.diff .add { color: var(--up); }
  pre.diff .del { color: var(--down); }
  pre.diff .hunk { color: var(--accent); }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
  dt { color: var(--muted); }
</style>`;

/** The path of an entry's page. */
export function historyPath(e: Pick<HistoryEntry, 'target' | 'id'>): string {
  return `/history/${encodeURIComponent(e.target)}/${e.id}`;
}

/** The (target, id) a path under /history/ names, or null. */
export function parseHistoryPath(path: string): { target: string; id: number } | null {
  const m = /^\/history\/([^/]+)\/([1-9]\d{0,9})$/.exec(path);
  if (!m) return null;
  try {
    return { target: decodeURIComponent(m[1]!), id: Number(m[2]) };
  } catch {
    return null;
  }
}

function diffLines(diff: string): Html[] {
  return diff
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => {
      const cls =
        line.startsWith('+++') || line.startsWith('---')
          ? 'file'
          : line.startsWith('+')
            ? 'add'
            : line.startsWith('-')
              ? 'del'
              : line.startsWith('@@')
                ? 'hunk'
                : 'ctx';
      return html`<span class="${cls}">${line}</span>\n`;
    });
}

const list = (ids: readonly string[] | null) => (ids === null ? 'not known' : ids.join(', ') || 'none');

export function renderHistoryEntryPage(e: HistoryEntry, now: number): string {
  const live = e.outcome === 'applied' || e.outcome === 'verify failed';
  const title = `nat64-health · ${e.target} apply #${e.id}`;
  const repeated = e.attempts ? html` · failed ${e.attempts} times, the last ${formatTime(e.last_at)}` : '';
  const verified = e.verification
    ? html`${e.verification.ok ? 'yes' : 'NO'}: ${e.verification.detail}${
        e.verification.reapplied ? ' (after one more apply with a reload)' : ''
      }`
    : 'not asked';
  const poolOf = (c: HistoryEntry['changes'][number]) => {
    const pool = changePool(e, c);
    return pool !== null ? html`<code>${pool}</code>: ` : '';
  };
  const changes = e.changes.length
    ? html`<ul>${e.changes.map((c) => html`<li>${poolOf(c)}<code>${c.id}</code> ${c.change}: ${c.reason}</li>`)}</ul>`
    : html`<span class="muted">none</span>`;
  // with pools each pool's set (the default pool's last); without, the one set
  const sets = e.pools
    ? html`<dt>Sets</dt><dd><ul>${Object.entries(e.pools).map(
        ([name, s]) => html`<li><code>${name}</code>: ${list(s.old)} → ${list(s.new)} (${setChange(s)})</li>`,
      )}</ul></dd>`
    : html`<dt>Set before</dt><dd>${list(e.old)}</dd>
          <dt>Set after</dt><dd>${list(e.new)} (${setChange(e)})</dd>`;
  const badge = html`<span class="badge ${e.outcome === 'applied' ? 'applied' : 'failed'}">${e.outcome}</span>`;
  const failed = e.error ? html`<dt>Error</dt><dd class="failed">${e.stage ? `${e.stage}: ` : ''}${e.error}</dd>` : '';
  const diff = e.diff
    ? html`<pre class="diff" id="diff">${diffLines(e.diff)}</pre>`
    : html`<p class="muted" id="diff">The text did not change (a reload only).</p>`;
  return String(html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <title>${title}</title>
        ${STYLE}
        ${DIFF_STYLE}
      </head>
      <body>
        <h1>${e.target}: apply #${e.id}</h1>
        <p class="meta">${formatTime(e.at)} (${formatAgo(e.at, now)}) · took ${formatMs(e.ms)}${repeated}</p>
        <dl>
          <dt>Outcome</dt><dd>${badge}</dd>
          ${failed}
          <dt>Reason</dt><dd>${e.reason}</dd>
          ${sets}
          <dt>Draining</dt><dd>${list(e.draining)}</dd>
          <dt>Selection changes</dt><dd>${changes}</dd>
          <dt>BIND serves it</dt><dd>${verified}</dd>
        </dl>
        <h2>${live ? 'What was written' : 'What it would have written (not live)'}</h2>
        ${diff}
        <footer class="muted"><a href="/">status page</a> · <a href="/history.json">/history.json</a></footer>
      </body>
    </html>
`);
}
