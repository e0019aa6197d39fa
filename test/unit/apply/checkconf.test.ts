// The include-chain shadow behind remote validation, over an in-memory ConfFiles (as SFTP provides).
import { describe, expect, it } from 'vitest';
import { checkconfFor, shadowChain, type ConfFiles } from '../../../src/apply/checkconf.js';

function memory(files: Record<string, string>): ConfFiles & { written: Map<string, string> } {
  const written = new Map<string, string>();
  return {
    written,
    read: (f) => Promise.resolve(files[f] ?? null),
    writeShadow: (name, text) => {
      const p = `/shadow/${name}`;
      written.set(p, text);
      return Promise.resolve(p);
    },
  };
}

describe('shadowChain', () => {
  it('rewrites only the files on the chain to the candidate, relative includes against the root dir', async () => {
    const fs = memory({
      '/etc/bind/named.conf': 'include "/etc/bind/named.conf.options";\ninclude "named.conf.local";\n',
      '/etc/bind/named.conf.options':
        'options {\n\tdirectory "/var/cache/bind";\n\t// include "/nope";\n\tinclude "/var/lib/bind/nat64-health/dns64.conf";\n};\n',
      '/etc/bind/named.conf.local': 'zone "x" { type primary; file "db.x"; };\n',
    });
    const root = await shadowChain(
      fs,
      '/etc/bind/named.conf',
      '/var/lib/bind/nat64-health/dns64.conf',
      '/var/lib/bind/nat64-health/.dns64.conf.nat64-health-1234',
    );
    expect(root).toBe('/shadow/1-named.conf');
    expect(fs.written.get('/shadow/1-named.conf')).toBe(
      'include "/shadow/0-named.conf.options";\ninclude "named.conf.local";\n',
    );
    expect(fs.written.get('/shadow/0-named.conf.options')).toContain(
      'include "/var/lib/bind/nat64-health/.dns64.conf.nat64-health-1234";',
    );
    expect(fs.written.get('/shadow/0-named.conf.options')).toContain('// include "/nope";');
    expect(fs.written.size).toBe(2);
  });

  it('returns null when the output is not on any chain, and survives include cycles', async () => {
    const fs = memory({ '/a.conf': 'include "/b.conf";', '/b.conf': 'include "/a.conf";' });
    expect(await shadowChain(fs, '/a.conf', '/out.conf', '/tmp.conf')).toBeNull();
    expect(fs.written.size).toBe(0);
  });

  it('puts the shadow root in place of named.conf in the checkconf argv', () => {
    expect(checkconfFor(['named-checkconf', '-z', '/etc/bind/named.conf'], '/shadow/1-named.conf')).toEqual([
      'named-checkconf',
      '-z',
      '/shadow/1-named.conf',
    ]);
    expect(checkconfFor(['named-checkconf'], '/shadow/1-named.conf')).toEqual([
      'named-checkconf',
      '/shadow/1-named.conf',
    ]);
  });
});
