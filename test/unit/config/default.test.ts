// Keeps the Debian package's texts in step with the code: the shipped /etc/nat64-health/config.yaml
// is the embedded default, and the man page names every command and config key.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { configSchema } from '../../../src/config/schema.js';
import { renderDns64, staticSelection } from '../../../src/render/render.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

/** Key paths of a zod object schema: "health.interval"; below an array only the key ("[]." marks it). */
function keyPaths(schema: unknown, prefix = ''): string[] {
  const def = (schema as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, unknown>).flatMap(([k, v]) => [
        prefix + k,
        ...keyPaths(v, `${prefix}${k}.`),
      ]);
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
      return keyPaths(def.innerType, prefix);
    case 'pipe':
      return [...keyPaths(def.in, prefix), ...keyPaths(def.out, prefix)];
    case 'array':
      return keyPaths(def.element, `${prefix.replace(/\.$/, '')}[].`);
    case 'union':
      return (def.options as unknown[]).flatMap((o) => keyPaths(o, prefix));
    default:
      return [];
  }
}

/** What the public NAT64 service's operators ask resolvers to configure, with its four prefixes. */
const PUBLIC_SERVICE_FRAGMENT = `// Managed by nat64-health; do not edit: changes are overwritten.
${[
  ['2a00:1098:2b::/96', 'public-1'],
  ['2a00:1098:2c:1::/96', 'public-2'],
  ['2a01:4f8:c2c:123f:64::/96', 'public-3'],
  ['2a01:4f9:c010:3f02:64::/96', 'public-4'],
]
  .map(
    ([prefix, name]) => `dns64 ${prefix} {
\t// ${name}
\tclients { any; };
\texclude { 0::/3; 4000::/2; 8000::/1; 2001:db8::/32; };
};
`,
  )
  .join('')}`;

describe('shipped defaults (issue 9)', () => {
  it('the embedded default and debian/config.yaml render the public service exclude list', () => {
    for (const config of [loadConfig(null), loadConfig(repo('debian/config.yaml'))]) {
      expect(renderDns64(config, staticSelection(config)), config.source).toBe(PUBLIC_SERVICE_FRAGMENT);
    }
  });

  it('render --static prints exactly that fragment', async () => {
    const { execa } = await import('execa');
    const r = await execa('node', [
      repo('bin/nat64-health.js'),
      'render',
      '--static',
      '-c',
      repo('debian/config.yaml'),
    ]);
    expect(r.stdout + '\n').toBe(PUBLIC_SERVICE_FRAGMENT);
  });
});

describe('README', () => {
  it('its minimal configuration is valid', () => {
    const readme = readFileSync(repo('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## A minimal configuration'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const config = parseConfig(yaml, 'README.md', repo('.'));
    expect(config.prefixes.map((p) => p.name)).toEqual(['gateway-a', 'gateway-b', 'public-1']);
    expect(config.bind.dns64.exclude).toEqual(['0::/3', '4000::/2', '8000::/1', '2001:db8::/32']);
  });
});

describe('Debian package', () => {
  it('ships the embedded default configuration as /etc/nat64-health/config.yaml', () => {
    const shipped = loadConfig(repo('debian/config.yaml'));
    const embedded = loadConfig(null);
    const essence = (c: typeof shipped) => ({
      prefixes: c.prefixes.map((p) => [p.id, p.name, p.group]),
      probes: c.probes,
      health: c.health,
      select: c.select,
      bind: { ...c.bind, template_path: undefined },
      state_file: c.state_file,
      warnings: c.warnings,
    });
    expect(essence(shipped)).toEqual(essence(embedded));
    expect(shipped.bind.mode).toBe('include');
    expect(shipped.bind.output).toBe('/var/lib/bind/nat64-health/dns64.conf');
    expect(shipped.state_file).toBe('/var/lib/nat64-health/state.json');
  });

  const man = readFileSync(repo('man/nat64-health.8'), 'utf8')
    .replace(/\\-/g, '-')
    .replace(/\\f[BIRP]/g, '');

  it('documents every config key in nat64-health(8)', () => {
    const paths = [...new Set(keyPaths(configSchema))];
    expect(paths).toContain('bind.dns64.clients');
    // A key below an array is documented by its path in the entry (probes[].port: port,
    // targets[].ssh.host: ssh.host); others by their full path (health.interval).
    const missing = paths.filter((p) => {
      const wanted = p.includes('[].') ? p.slice(p.lastIndexOf('[].') + 3) : p;
      return !new RegExp(`(^|[^\\w.])${wanted.replace(/[.[\]]/g, '\\$&')}([^\\w]|$)`, 'm').test(man);
    });
    expect(missing, 'add these config keys to man/nat64-health.8 (CONFIGURATION)').toEqual([]);
  });

  it('documents every command in nat64-health(8)', () => {
    // every command file of the program (src/cli/commands/*.ts registers one with .command('name', ...))
    const dir = repo('src/cli/commands');
    const cli = readdirSync(dir)
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    const commands = [...cli.matchAll(/\.command\(\s*'([\w-]+)/g)].map((m) => m[1]!);
    expect(commands).toContain('run');
    // `.B run`, `.BI "synth " ...`, `.B "targets test"` for a subcommand
    const missing = commands.filter((c) => !new RegExp(`^\\.BI? "?([\\w-]+ )*${c}\\b`, 'm').test(man));
    expect(missing, 'add these commands to man/nat64-health.8 (COMMANDS)').toEqual([]);
  });
});
