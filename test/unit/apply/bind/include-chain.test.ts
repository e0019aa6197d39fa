// The include-chain shadow behind validation, over an in-memory ChainFiles (as SFTP provides):
// followed as BIND follows it (directory, nested includes, globs, -t).
import { describe, expect, it } from 'vitest';
import { checkconfArgv, parseCheckconf } from '../../../../src/config/checkconf-args.js';
import { includesFile, shadowChain, type ChainFiles } from '../../../../src/apply/bind/include-chain.js';

function memory(files: Record<string, string>): ChainFiles & { written: Map<string, string> } {
  const written = new Map<string, string>();
  return {
    written,
    read: (f) => Promise.resolve(files[f] ?? null),
    list: (d) =>
      Promise.resolve(
        Object.keys(files)
          .filter((f) => f.startsWith(`${d.replace(/\/$/, '')}/`) && !f.slice(d.length + 1).includes('/'))
          .map((f) => f.slice(d.replace(/\/$/, '').length + 1)),
      ),
    writeShadow: (name, text) => {
      const p = `/shadow/${name}`;
      written.set(p, text);
      return Promise.resolve(p);
    },
  };
}

const CC = parseCheckconf(['named-checkconf', '/etc/bind/named.conf']);
const LIVE = '/var/lib/bind/nat64-health/dns64.conf';
const CAND = '/var/lib/bind/nat64-health/.dns64.conf.nat64-health-1234';

describe('shadowChain', () => {
  it('rewrites only the files on the chain to the candidate; files off it are read in place', async () => {
    const fs = memory({
      '/etc/bind/named.conf': 'include "/etc/bind/named.conf.options";\ninclude "named.conf.local";\n',
      '/etc/bind/named.conf.options': [
        'options {',
        '\tdirectory "/var/cache/bind";',
        '\t// include "/nope";',
        `\tinclude "${LIVE}";`,
        '};',
        '',
      ].join('\n'),
      '/var/cache/bind/named.conf.local': 'zone "x" { type primary; file "db.x"; };\n',
    });
    const shadow = await shadowChain(fs, CC, LIVE, CAND);
    expect(shadow?.root).toBe('/shadow/1-named.conf');
    expect(fs.written.get('/shadow/1-named.conf')).toBe(
      'include "/shadow/0-named.conf.options";\ninclude "named.conf.local";\n',
    );
    expect(fs.written.get('/shadow/0-named.conf.options')).toContain(`include "${CAND}";`);
    expect(fs.written.get('/shadow/0-named.conf.options')).toContain('// include "/nope";');
    expect(fs.written.size).toBe(2);
    expect(shadow?.originals.get('/shadow/0-named.conf.options')).toBe('/etc/bind/named.conf.options');
    expect(shadow?.originals.get(CAND)).toBe(LIVE);
  });

  it("resolves relative includes against `directory` once parsed, as BIND does (not named.conf's folder)", async () => {
    const fs = memory({
      '/etc/bind/named.conf': 'options { directory "/var/cache/bind"; };\ninclude "nh/dns64.conf";\n',
      '/etc/bind/nh/dns64.conf': '',
    });
    const shadow = await shadowChain(fs, CC, '/var/cache/bind/nh/dns64.conf', '/cand');
    expect(fs.written.get(shadow!.root)).toBe('options { directory "/var/cache/bind"; };\ninclude "/cand";\n');
    // the same relative include before the directory option: named.conf's folder (where checkconf runs)
    const before = memory({ '/etc/bind/named.conf': 'include "nh/dns64.conf";\noptions { directory "/x"; };\n' });
    expect(await includesFile(before, CC, '/etc/bind/nh/dns64.conf')).toBe(true);
    expect(await includesFile(before, CC, '/x/nh/dns64.conf')).toBe(false);
  });

  it('follows a directory set in an included file, nested includes and globs', async () => {
    const fs = memory({
      '/etc/bind/named.conf': 'include "/etc/bind/named.conf.options";\ninclude "conf.d/*.conf";\n',
      '/etc/bind/named.conf.options': 'options {\n\tdirectory "/srv/bind";\n};\n',
      '/srv/bind/conf.d/a.conf': 'zone "a" { type primary; file "db.a"; };\n',
      '/srv/bind/conf.d/b.conf': 'include "inner.conf";\n',
      '/srv/bind/conf.d/.hidden.conf': '',
      '/srv/bind/inner.conf': `options { };\n`,
    });
    const shadow = await shadowChain(fs, CC, '/srv/bind/inner.conf', '/cand');
    expect(fs.written.get('/shadow/0-b.conf')).toBe('include "/cand";\n');
    expect(fs.written.get(shadow!.root)).toBe(
      'include "/etc/bind/named.conf.options";\ninclude "/srv/bind/conf.d/a.conf"; include "/shadow/0-b.conf";\n',
    );
  });

  it('-t: paths are inside the chroot, shadows too', async () => {
    const cc = parseCheckconf(['named-checkconf', '-t', '/chroot', '/etc/bind/named.conf']);
    const fs = memory({
      '/chroot/etc/bind/named.conf': 'options { include "/var/lib/nh/dns64.conf"; };\n',
    });
    fs.writeShadow = (name, text) => {
      fs.written.set(`/chroot/var/lib/nh/s/${name}`, text);
      return Promise.resolve(`/chroot/var/lib/nh/s/${name}`);
    };
    const shadow = await shadowChain(fs, cc, '/chroot/var/lib/nh/dns64.conf', '/chroot/var/lib/nh/.cand');
    expect(shadow?.root).toBe('/var/lib/nh/s/0-named.conf');
    expect(fs.written.get('/chroot/var/lib/nh/s/0-named.conf')).toBe('options { include "/var/lib/nh/.cand"; };\n');
    expect(checkconfArgv(cc, shadow!.root)).toEqual(['named-checkconf', '-t', '/chroot', '/var/lib/nh/s/0-named.conf']);
  });

  it('returns null when the output is not on any chain, and survives include cycles', async () => {
    const fs = memory({ '/a.conf': 'include "/b.conf";', '/b.conf': 'include "/a.conf";' });
    const cc = parseCheckconf(['named-checkconf', '/a.conf']);
    expect(await shadowChain(fs, cc, '/out.conf', '/tmp.conf')).toBeNull();
    expect(fs.written.size).toBe(0);
  });

  it('puts the shadow root in place of named.conf in the checkconf argv', () => {
    const shadow = '/shadow/1-named.conf';
    expect(checkconfArgv(parseCheckconf(['named-checkconf', '-z', '/etc/bind/named.conf']), shadow)).toEqual([
      'named-checkconf',
      '-z',
      shadow,
    ]);
    expect(checkconfArgv(parseCheckconf(['named-checkconf']), shadow)).toEqual(['named-checkconf', shadow]);
  });
});
