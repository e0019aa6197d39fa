// named-checkconf's command line, read exactly as BIND's usage: [-chijlvz] [-p [-x]] [-t directory] [named.conf]
import { describe, expect, it } from 'vitest';
import { parseCheckconf } from '../../../src/config/checkconf-args.js';

describe('parseCheckconf', () => {
  it('-c and -p take no value: the file after them is named.conf', () => {
    expect(parseCheckconf(['named-checkconf', '-c', '/srv/named.conf']).namedConf).toBe('/srv/named.conf');
    expect(parseCheckconf(['named-checkconf', '-p', '-x', '/srv/named.conf'])).toMatchObject({
      flags: ['-p', '-x'],
      namedConf: '/srv/named.conf',
    });
    expect(parseCheckconf(['named-checkconf', '-zj']).flags).toEqual(['-z', '-j']);
  });

  it('honours -t (also -tDIR), and the default named.conf', () => {
    expect(parseCheckconf(['named-checkconf', '-t', '/var/named/chroot'])).toMatchObject({
      chroot: '/var/named/chroot',
      given: null,
      namedConf: '/etc/bind/named.conf',
    });
    expect(parseCheckconf(['named-checkconf', '-z', '-t/c', '/n.conf'])).toMatchObject({
      chroot: '/c',
      namedConf: '/n.conf',
    });
  });

  it('finds the program behind a wrapper', () => {
    const a = parseCheckconf(['ip', 'netns', 'exec', 'ns1', 'named-checkconf', '-z', '/etc/bind/named.conf']);
    expect(a).toMatchObject({ command: ['ip', 'netns', 'exec', 'ns1', 'named-checkconf'], flags: ['-z'] });
    expect(parseCheckconf(['/usr/local/bin/check-wrapper', '/n.conf']).namedConf).toBe('/n.conf');
  });

  it.each([
    [['named-checkconf', '/a.conf', '/b.conf'], /more than one named.conf/],
    [['named-checkconf', '-q', '/a.conf'], /no option -q/],
    [['named-checkconf', '-h'], /usage instead of checking/],
    [['named-checkconf', '-v'], /version instead of checking/],
    [['named-checkconf', '-t'], /-t needs a directory/],
    [['named-checkconf', '-x', '/a.conf'], /-x only goes with -p/],
  ])('refuses %j', (argv, re) => {
    expect(() => parseCheckconf(argv)).toThrow(re);
  });
});
