import { describe, expect, it } from 'vitest';
import { compileTemplate, type TemplateContext } from '../../../src/config/template.js';

const EACH = '{{#each prefixes}}dns64 {{prefix}};{{/each}}';
const context = (dns64: TemplateContext['dns64']): TemplateContext => {
  const a = {
    prefix: '2001:db8:64:a::/96',
    name: 'a',
    group: null,
    active: true,
    draining: false,
    clients: dns64.clients,
    pools: ['default'],
  };
  return { prefixes: [a], active: [a], draining: [], dns64, failsafe: false, pools: [] };
};
const ABSENT = { exclude: null, mapped: null, suffix: null, recursive_only: null, break_dnssec: null };

describe('template check', () => {
  it('accepts a template that reads an absent option outside a helper: absent options are null (issue 9)', () => {
    const t = compileTemplate(`${EACH} suffix=[{{dns64.suffix}}] mapped=[{{dns64.mapped}}]`, 't.hbs');
    expect(t.render(context({ clients: ['any'], ...ABSENT }))).toBe('dns64 2001:db8:64:a::/96; suffix=[] mapped=[]');
    expect(t.render(context({ clients: ['any'], ...ABSENT, suffix: '::1' }))).toMatch(/suffix=\[::1\]/);
  });

  it('still refuses a misspelt field', () => {
    expect(() => compileTemplate(`${EACH}{{dns64.sufix}}`, 't.hbs')).toThrow(/t\.hbs.*sufix/);
  });
});
