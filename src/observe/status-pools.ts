// The status page's client pools section: each pool's set, the default pool's first, and what it
// still drains. From the snapshot (the state file's); its own file so the page's layout
// (status-page.ts) only places it.
import type { StateSnapshot } from '../daemon/state-file.js';
import { formatAgo } from '../lib/format.js';
import { html, type Html } from './html.js';
import { poolSets } from './format.js';

/** The section, or nothing without pools. */
export function poolsSection(s: StateSnapshot, now: number): Html | '' {
  if (s.pools === undefined) return '';
  const names = new Map(s.prefixes.map((p) => [p.prefix, p.name]));
  const named = (id: string) => {
    const name = names.get(id);
    return html`<code>${id}</code>${name && name !== id ? html` ${name}` : ''}`;
  };
  const rows = poolSets(s).map((pool) => {
    const active = pool.active.length
      ? pool.active.map((id) => html`<span class="active">${named(id)}</span> `)
      : html`<span class="badge down">none</span>`;
    const draining = pool.draining.map((id) => {
      const since = pool.draining_since[id];
      const when = since ? html` <span class="muted" title="${since}">since ${formatAgo(since, now)}</span>` : '';
      return html`${named(id)}${when} `;
    });
    const data = html`data-pool="${pool.name}" data-active="${pool.active.join(' ')}"`;
    return html`<tr class="pool" ${data} data-draining="${pool.draining.join(' ')}">
      <td>${pool.name}</td>
      <td>${active}</td>
      <td>${draining.length ? draining : html`<span class="muted">none</span>`}</td>
    </tr>`;
  });
  return html`<h2>Client pools</h2>
    <table id="pools">
      <thead>
        <tr>
          <th>Pool</th>
          <th>Active</th>
          <th>Draining</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>`;
}
