import { describe, expect, it } from 'vitest';
import { escapeHtml, html, type HtmlValue } from '../../../src/observe/html.js';

const evil = `<img src=x onerror="a('b')">&`;
const escaped = '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;';

describe('html tag', () => {
  it('escapes every character that could end a text or attribute', () => {
    expect(escapeHtml(evil)).toBe(escaped);
    expect(escapeHtml('plain 2001:db8::/96 · 8.5 ms')).toBe('plain 2001:db8::/96 · 8.5 ms');
  });

  it('escapes values in text and in attributes, quoted either way', () => {
    expect(String(html`<td>${evil}</td>`)).toBe(`<td>${escaped}</td>`);
    expect(String(html`<td title="${evil}">x</td>`)).toBe(`<td title="${escaped}">x</td>`);
    expect(String(html`<td title='${evil}'>x</td>`)).toBe(`<td title='${escaped}'>x</td>`);
    // a value cannot close the attribute and add its own
    expect(String(html`<tr data-x="${'" onclick="boom'}">`)).toBe('<tr data-x="&quot; onclick=&quot;boom">');
  });

  it('keeps the literal parts and numbers as they are', () => {
    expect(String(html`<p class="meta">a · b – c</p>`)).toBe('<p class="meta">a · b – c</p>');
    expect(String(html`<rect x="${1.5}" y="${-2}" width="${0}"/>`)).toBe('<rect x="1.5" y="-2" width="0"/>');
  });

  it('inserts nested html results as markup, and escapes the values inside them once', () => {
    const badge = (state: string) => html`<span class="badge ${state}">${state}</span>`;
    expect(String(html`<td>${badge('up')}</td>`)).toBe('<td><span class="badge up">up</span></td>');
    expect(String(html`<td>${badge(evil)}</td>`)).toBe(`<td><span class="badge ${escaped}">${escaped}</span></td>`);
    const inner = html`<b>${'&'}</b>`;
    expect(String(html`<i>${html`<u>${inner}</u>`}</i>`)).toBe('<i><u><b>&amp;</b></u></i>');
  });

  it('joins arrays without separators: fragments as markup, text escaped', () => {
    const rows = ['a', '<b>'].map((name) => html`<tr><td>${name}</td></tr>`);
    expect(String(html`<tbody>${rows}</tbody>`)).toBe('<tbody><tr><td>a</td></tr><tr><td>&lt;b&gt;</td></tr></tbody>');
    const mixed: HtmlValue[] = [html`<br>`, '<br>', 3, [html`<hr>`, '&']];
    expect(String(html`${mixed}`)).toBe('<br>&lt;br&gt;3<hr>&amp;');
    expect(String(html`<tbody>${[]}</tbody>`)).toBe('<tbody></tbody>');
  });

  it('takes a string only as text: markup needs the tag', () => {
    const looksLikeMarkup = String(html`<b>bold</b>`);
    expect(String(html`<td>${looksLikeMarkup}</td>`)).toBe('<td>&lt;b&gt;bold&lt;/b&gt;</td>');
    // An object that only looks like a fragment is rejected by the types, and is text if forced in.
    // @ts-expect-error not a fragment
    expect(String(html`<td>${{ toString: () => '<b>' }}</td>`)).toBe('<td>&lt;b&gt;</td>');
  });

  it('has no value for "nothing": an absent value must be spelled out (type check only)', () => {
    const group: string | null = null as string | null;
    // @ts-expect-error null or undefined would print as "null"/"undefined"
    void html`<td>${group}</td>`;
    // @ts-expect-error a boolean would print as "false"
    void html`<td>${group !== null && html`<b>${group}</b>`}</td>`;
    expect(String(html`<td>${group ?? '-'}</td>`)).toBe('<td>-</td>');
  });
});
