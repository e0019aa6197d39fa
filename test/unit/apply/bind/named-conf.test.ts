import { describe, expect, it } from 'vitest';
import {
  BLOCK_BEGIN,
  BLOCK_END,
  findOptionsBlock,
  scanStatements,
  servingDns64Prefixes,
  spliceManagedBlock,
} from '../../../../src/apply/bind/named-conf.js';

const OPTIONS = `// named.conf.options, Debian style
# a hash comment with options { inside
/* options { in a block comment } */
options {
\tdirectory "/var/cache/bind";
\t// keep { this }
\tversion "x{y}";
\tlisten-on-v6 { any; };
\tacl-like { a; { b; }; };
};

logging { channel x { stderr; }; };
`;

describe('named.conf text', () => {
  it('finds include statements outside comments, and the options-level directory, in order', () => {
    const text = [
      'include "/etc/bind/a.conf";',
      '// include "/nope";',
      '/* include "/nope2"; */',
      'options { directory "/d"; include "b.conf"; };',
      'zone "z" { directory "/no"; };',
      '',
    ].join('\n');
    const found = scanStatements(text);
    expect(found.map((st) => `${st.kind} ${st.path}`)).toEqual([
      'include /etc/bind/a.conf',
      'directory /d',
      'include b.conf',
    ]);
    const inc = found[2]!;
    expect(inc.kind === 'include' && text.slice(inc.start, inc.end)).toBe('"b.conf"');
    // a file included inside options { } sees its directory statements as options-level
    expect(scanStatements('directory "/e";\n', ['options'])).toEqual([{ kind: 'directory', path: '/e' }]);
  });

  it('finds the options block, ignoring braces in comments and strings', () => {
    const pos = findOptionsBlock(OPTIONS)!;
    expect(OPTIONS[pos.open]).toBe('{');
    expect(OPTIONS.slice(pos.close, pos.close + 3)).toBe('};\n');
    expect(OPTIONS.slice(0, pos.open)).toMatch(/\noptions $/);
    expect(findOptionsBlock('logging { };')).toBeNull();
  });

  it('inserts the managed block at the end of options, changing no other byte', () => {
    const out = spliceManagedBlock(OPTIONS, 'dns64 2001:db8::/96 {\n\tclients { any; };\n};\n', 'f');
    const close = findOptionsBlock(OPTIONS)!.close;
    const inserted = `\t${BLOCK_BEGIN}\n\tdns64 2001:db8::/96 {\n\t\tclients { any; };\n\t};\n\t${BLOCK_END}\n`;
    expect(out).toBe(OPTIONS.slice(0, close) + inserted + OPTIONS.slice(close));
  });

  it('replaces only the block on later runs, and an empty render leaves an empty block', () => {
    const first = spliceManagedBlock(OPTIONS, 'dns64 2001:db8::/96 { };\n', 'f');
    const second = spliceManagedBlock(first, 'dns64 2001:db8:1::/96 { };\n', 'f');
    expect(second).toBe(first.replace('2001:db8::/96', '2001:db8:1::/96'));
    const empty = spliceManagedBlock(second, '', 'f');
    expect(empty).toContain(`\t${BLOCK_BEGIN}\n\t${BLOCK_END}\n`);
    expect(spliceManagedBlock(empty, 'dns64 2001:db8::/96 { };\n', 'f')).toBe(first);
  });

  it('handles an options block closed on the same line', () => {
    const out = spliceManagedBlock('options { directory "/x"; };\n', 'dns64 2001:db8::/96 { };\n', 'f');
    expect(out).toBe(`options { directory "/x"; \n\t${BLOCK_BEGIN}\n\tdns64 2001:db8::/96 { };\n\t${BLOCK_END}\n};\n`);
  });

  it('refuses files without options, with damaged markers, or with the block outside options', () => {
    expect(() => spliceManagedBlock('logging { };\n', 'x', 'named.conf.options')).toThrow(
      /named.conf.options: no "options \{ ... \};" block/,
    );
    const doubled = spliceManagedBlock(OPTIONS, 'x\n', 'f').replace(BLOCK_END, `${BLOCK_BEGIN}\n${BLOCK_END}`);
    expect(() => spliceManagedBlock(doubled, 'x', 'f')).toThrow(/markers are damaged \(found 2 BEGIN and 1 END/);
    const outside = `options { };\n${BLOCK_BEGIN}\n${BLOCK_END}\n`;
    expect(() => spliceManagedBlock(outside, 'x', 'f')).toThrow(/not inside the options block/);
  });

  it('markers inside a /* */ comment, a string or another comment are not the block', () => {
    const text = [
      'options {',
      '\t/* old:',
      `\t${BLOCK_BEGIN}`,
      `\t${BLOCK_END}`,
      '\t*/',
      `\tversion "${BLOCK_BEGIN}";`,
      `\t# ${BLOCK_END}`,
      '\tdirectory "/tmp";',
      '};',
      '',
    ].join('\n');
    const out = spliceManagedBlock(text, 'dns64 2001:db8::/96 { };\n', 'f');
    // untouched up to the end of options, the real block inserted there
    expect(out).toBe(text.replace('};\n', `\t${BLOCK_BEGIN}\n\tdns64 2001:db8::/96 { };\n\t${BLOCK_END}\n};\n`));
    expect(spliceManagedBlock(out, '', 'f')).toBe(out.replace('\tdns64 2001:db8::/96 { };\n', ''));
  });

  it('an options word in a comment or string is not the options statement', () => {
    const text = '/* options { */ // options {\nacl "options" { any; };\noptions { directory "/x"; };\n';
    const out = spliceManagedBlock(text, 'x;\n', 'f');
    expect(out.indexOf(BLOCK_BEGIN)).toBeGreaterThan(text.indexOf('options { directory'));
  });

  it('the dns64 prefixes a text serves (clients { none; } drops out)', () => {
    expect(
      servingDns64Prefixes(
        [
          'dns64 2001:db8:64:a::/96 { clients { any; }; };',
          'dns64 2001:db8:64:b::/96 { clients { none; }; };',
          'dns64 2001:db8:64:c::/64 { };',
          '',
        ].join('\n'),
      ),
    ).toEqual(['2001:db8:64:a::/96', '2001:db8:64:c::/64']);
  });
});
