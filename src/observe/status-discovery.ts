// The status page's discovery section: each RFC 7050 source, what it answered and when, what is
// kept while it does not answer. From the snapshot's `discovery` (the state file's); its own file so
// the page's layout (status-page.ts) only places it.
import type { DiscoveryStatus } from '../discover/discover.js';
import { formatAgo, formatTime } from '../lib/format.js';
import { html, type Html } from './html.js';

/** A source's state in a word: answering, kept (failing, its last set still used), failing, asking. */
export function discoveryState(d: DiscoveryStatus): 'answering' | 'kept' | 'failing' | 'asking' {
  if (d.error === null) return d.answered_at === null ? 'asking' : 'answering';
  return d.kept_until !== null ? 'kept' : 'failing';
}

/** The section, or nothing when no source is configured. */
export function discoverySection(sources: readonly DiscoveryStatus[] | undefined, now: number): Html | '' {
  if (!sources?.length) return '';
  const rows = sources.map((d) => {
    const state = discoveryState(d);
    const badge = state === 'answering' ? 'up' : state === 'asking' ? 'unknown' : 'down';
    const answered = d.answered_at
      ? html`<span title="${d.answered_at}">${formatAgo(d.answered_at, now)}</span>`
      : html`<span class="muted">never</span>`;
    const kept = d.kept_until
      ? html`; last set kept until <span title="${d.kept_until}">${formatTime(d.kept_until)}</span>`
      : '; no set kept';
    const problem = d.error === null ? '' : html`${d.error}${kept}`;
    const found = d.prefixes.length
      ? d.prefixes.map((p) => html`<code>${p}</code> `)
      : html`<span class="muted">none</span>`;
    const data = html`data-source="${d.source}" data-discovery="${state}" data-prefixes="${d.prefixes.length}"`;
    return html`<tr class="discovery" ${data}>
      <td><code>${d.source}</code></td>
      <td>${d.name}</td>
      <td>${d.group ?? ''}</td>
      <td><span class="badge ${badge}">${state}</span></td>
      <td>${found}</td>
      <td>${answered}</td>
      <td title="${d.next_at}">${formatTime(d.next_at)}</td>
      <td>${problem}</td>
    </tr>`;
  });
  const headers = ['Source', 'Name', 'Group', 'State', 'Prefixes', 'Answered', 'Next query', 'Last error'];
  return html`<h2>Discovered prefixes (RFC 7050)</h2>
    <table id="discovery">
      <thead>
        <tr>
          ${headers.map((h) => html`<th>${h}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>`;
}
