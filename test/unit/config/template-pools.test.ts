// With client pools (issue 21) a template must render each prefix's own `clients` ACL: BIND gives a
// client every prefix whose statement admits it, so a template that leaves the ACLs out (or writes
// the same one everywhere) hands every prefix to every client. Such a template is refused at load,
// naming the template file and the config's bind.template; without pools nothing new is checked.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import { compileTemplate } from '../../../src/config/template.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-template-pools-'));
const PREFIXES = `prefixes:
  - { prefix: 2001:db8:64:a::/96, group: site-a }
  - { prefix: 2001:db8:64:b::/96, group: site-b }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
`;
const POOLS = `pools:
  - { name: site-a, clients: ["2001:db8:a::/48"] }
  - { name: site-b, clients: ["2001:db8:b::/48"] }
`;

/** A config with the template `text` (in its own file), with or without pools. */
function load(text: string | null, pools: boolean) {
  const template = text === null ? 'dns64.conf.hbs' : `./t-${Math.random().toString(36).slice(2)}.hbs`;
  if (text !== null) writeFileSync(path.join(dir, template), text);
  const yaml = `${PREFIXES}${pools ? POOLS : ''}bind:\n  template: ${template}\n`;
  return () => parseConfig(yaml, 'c.yaml', dir);
}
function problems(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const NO_CLIENTS = '{{#each prefixes}}\ndns64 {{prefix}} { };\n{{/each}}\n';
const OPTION_CLIENTS =
  '{{#each prefixes}}\ndns64 {{prefix}} { clients { {{acl @root.dns64.clients}} }; };\n{{/each}}\n';
const OWN_CLIENTS =
  '{{#each prefixes}}\ndns64 {{prefix}} {\n{{#if draining}}\tclients { none; };\n' +
  '{{else}}\tclients { {{acl clients}} };\n{{/if}}\n};\n{{/each}}\n';

describe('a custom template with client pools', () => {
  it('one that renders no clients is refused: the template file, the config line, and why', () => {
    const lines = problems(load(NO_CLIENTS, true));
    expect(lines[0]).toMatch(
      /^.*t-\w+\.hbs: with client pools \(pools:\) the template must render each prefix's clients ACL .* of 2001:db8:64:a::\/96 of a sample set: every client would get every prefix$/,
    );
    expect(lines.at(-1)).toMatch(/^c\.yaml:\d+:\d+: bind\.template: template .*t-\w+\.hbs is unusable/);
  });

  it("one that renders the same clients everywhere (bind.dns64.clients) is refused; each prefix's own pass", () => {
    expect(problems(load(OPTION_CLIENTS, true))[0]).toMatch(/every client would get every prefix/);
    const config = load(OWN_CLIENTS, true)();
    expect(config.template.file).toMatch(/t-\w+\.hbs$/);
    // elements written one by one are rendered as well
    expect(() =>
      load(
        '{{#each prefixes}}dns64 {{prefix}} { clients { {{#each clients}}{{this}}; {{/each}} }; };\n{{/each}}',
        true,
      )(),
    ).not.toThrow();
  });

  it("one that renders only the first prefix's clients is refused", () => {
    const first = '{{#each prefixes}}dns64 {{prefix}} { clients { {{acl @root.active.0.clients}} }; };\n{{/each}}';
    expect(problems(load(first, true))[0]).toMatch(
      /does not render sample-clients-b, sample-clients-default of 2001:db8:64:b::\/96/,
    );
  });

  it('the shipped template passes', () => {
    expect(() => load(null, true)()).not.toThrow();
  });

  it('without pools no such check: a template without clients loads as before', () => {
    expect(() => load(NO_CLIENTS, false)()).not.toThrow();
    expect(() => compileTemplate(OPTION_CLIENTS, 't.hbs')).not.toThrow();
  });
});
