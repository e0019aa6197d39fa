// Handlebars templates for the dns64 blocks: loading, checking, rendering.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars/dist/handlebars.min.js';
import { ConfigError } from './errors.js';
import { TEMPLATES_DIR } from '../lib/paths.js';

export interface RenderedPrefix {
  prefix: string;
  name: string;
  group: string | null;
  active: boolean;
  draining: boolean;
  /**
   * the `clients` ACL elements of its statement: `bind.dns64.clients` without pools; with pools,
   * those that admit exactly the clients of the pools using it; `none` while draining
   */
  clients: string[];
  /** the pools that use it (`default`: the clients in no pool); empty while draining */
  pools: string[];
}

/** The `bind.dns64` options as configured (absent ones undefined). */
export interface Dns64Options {
  clients: string[];
  exclude?: string[];
  mapped?: string[];
  suffix?: string;
  recursive_only?: boolean;
  break_dnssec?: boolean;
}

/** The options as a template sees them: every key present, absent ones null (strict templates may read any). */
export interface Dns64Context {
  clients: string[];
  exclude: string[] | null;
  mapped: string[] | null;
  suffix: string | null;
  recursive_only: boolean | null;
  break_dnssec: boolean | null;
}

export function dns64Context(d: Dns64Options): Dns64Context {
  return {
    clients: d.clients,
    exclude: d.exclude ?? null,
    mapped: d.mapped ?? null,
    suffix: d.suffix ?? null,
    recursive_only: d.recursive_only ?? null,
    break_dnssec: d.break_dnssec ?? null,
  };
}

export interface TemplateContext {
  /** every prefix to render, in config order (stable, so latency changes never reorder the text) */
  prefixes: RenderedPrefix[];
  active: RenderedPrefix[];
  draining: RenderedPrefix[];
  dns64: Dns64Context;
  failsafe: boolean;
  /** the client pools (`pools:`), in config order; empty without pools */
  pools: Array<{ name: string; clients: string[] }>;
}

export interface Dns64Template {
  file: string;
  render(context: TemplateContext): string;
}

// An isolated Handlebars environment: helpers registered here cannot leak into other users.
const hbs = Handlebars.create();
hbs.registerHelper('acl', (items: unknown) =>
  Array.isArray(items)
    ? items
        .map((i) => `${i}; `)
        .join('')
        .trimEnd()
    : '',
);
hbs.registerHelper('yesno', (v: unknown) => (v ? 'yes' : 'no'));
hbs.registerHelper('isBool', (v: unknown) => typeof v === 'boolean');
hbs.registerHelper('join', (items: unknown, sep: unknown) =>
  Array.isArray(items) ? items.join(typeof sep === 'string' ? sep : ', ') : '',
);

/** "dns64.conf.hbs" names a shipped template; anything with a slash is a path (relative to the config file). */
export function resolveTemplatePath(name: string, configDir: string): string {
  if (!name.includes('/')) return path.join(TEMPLATES_DIR, name);
  return path.resolve(configDir, name);
}

/** A prefix of a sample set: active for the pools named (none: draining). */
const sample = (
  prefix: string,
  name: string,
  group: string | null,
  clients: string[],
  pools: string[],
): RenderedPrefix => ({
  prefix,
  name,
  group,
  active: pools.length > 0,
  draining: pools.length === 0,
  clients,
  pools,
});

function sampleSet(
  prefixes: RenderedPrefix[],
  dns64: Dns64Options,
  pools: TemplateContext['pools'] = [],
): TemplateContext {
  const active = prefixes.filter((p) => p.active);
  const draining = prefixes.filter((p) => p.draining);
  return { prefixes, active, draining, dns64: dns64Context(dns64), failsafe: false, pools };
}

const DRAINING_SAMPLE = sample('2001:db8:64:c::/64', 'sample-c', null, ['none'], []);

/** A sample set to test-render a template with: one active and one draining prefix, the real options. */
function sampleContext(dns64: Dns64Options): TemplateContext {
  return sampleSet(
    [sample('2001:db8:64:a::/96', 'sample-a', 'local', dns64.clients, ['default']), DRAINING_SAMPLE],
    dns64,
  );
}

/**
 * The sample set with client pools: two active prefixes, each with a `clients` ACL of its own whose
 * elements appear nowhere else (not in the other's, not in the options), so the output shows whether
 * the template renders each prefix's own `clients`.
 */
function pooledSampleContext(dns64: Dns64Options): TemplateContext {
  const a = sample('2001:db8:64:a::/96', 'sample-a', 'site-a', ['sample-clients-a'], ['sample-a']);
  const b = sample(
    '2001:db8:64:b::/96',
    'sample-b',
    'site-b',
    ['sample-clients-b', 'sample-clients-default'],
    ['sample-b', 'default'],
  );
  return sampleSet([a, b, DRAINING_SAMPLE], dns64, [
    { name: 'sample-a', clients: ['sample-clients-a'] },
    { name: 'sample-b', clients: ['sample-clients-b'] },
  ]);
}

/** What the config asks of a template beyond its dns64 options. */
export interface TemplateUse {
  /** `pools:` is configured: each prefix's `clients` must be rendered (else every client gets every prefix) */
  pools?: boolean;
}

/**
 * Reads, compiles and test-renders a template with the config's dns64 options (the context it will
 * really get); any problem is a ConfigError naming the file and line.
 */
export function loadTemplate(
  file: string,
  dns64: Dns64Options = { clients: ['any'] },
  use: TemplateUse = {},
): Dns64Template {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read template: ${(err as Error).message}` }]);
  }
  return compileTemplate(text, file, dns64, use);
}

export function compileTemplate(
  text: string,
  file: string,
  dns64: Dns64Options = { clients: ['any'] },
  use: TemplateUse = {},
): Dns64Template {
  const SAMPLE = use.pools ? pooledSampleContext(dns64) : sampleContext(dns64);
  let compiled: HandlebarsTemplateDelegate<TemplateContext>;
  try {
    // strict: a misspelt field is an error, not silently empty output; noEscape: this is not HTML.
    compiled = hbs.compile<TemplateContext>(text, { strict: true, noEscape: true });
    compiled(SAMPLE); // compile is lazy: syntax errors surface on first render
  } catch (err) {
    throw templateError(err, file);
  }
  const template: Dns64Template = {
    file,
    render(context) {
      try {
        return compiled(context);
      } catch (err) {
        throw templateError(err, file);
      }
    },
  };
  const rendered = template.render(SAMPLE);
  for (const p of SAMPLE.prefixes) {
    if (!rendered.includes(p.prefix)) {
      throw new ConfigError([
        {
          file,
          message:
            `the template does not render the prefix ${p.prefix} of a sample set ` +
            '(does it use {{prefix}} inside {{#each prefixes}}?)',
        },
      ]);
    }
  }
  if (use.pools) {
    // BIND gives a client every prefix whose statement's clients admit it: a template that leaves
    // the pools' ACLs out (or writes its own) hands every prefix to every client
    for (const p of SAMPLE.active) {
      const missing = p.clients.filter((element) => !rendered.includes(element));
      if (missing.length > 0)
        throw new ConfigError([
          {
            file,
            message:
              `with client pools (pools:) the template must render each prefix's clients ACL ` +
              `(clients { {{acl clients}} }; inside {{#each prefixes}}), and it does not render ` +
              `${missing.join(', ')} of ${p.prefix} of a sample set: every client would get every prefix`,
          },
        ]);
    }
  }
  return template;
}

function templateError(err: unknown, file: string): ConfigError {
  const message = err instanceof Error ? err.message : String(err);
  const line = /on line (\d+)/.exec(message) ?? /line (\d+)/.exec(message) ?? / - (\d+):\d+$/m.exec(message);
  // Handlebars' own multi-line message has a caret drawing; keep its first line and the expectation.
  const summary = message
    .split('\n')
    .filter((l) => l.trim() && !/^-*\^$/.test(l.trim()))
    .join(' | ');
  return new ConfigError([{ file, line: line ? Number(line[1]) : undefined, field: 'template', message: summary }]);
}
