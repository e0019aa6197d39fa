// Field types shared by the config schema and the targets schema.
import * as z from 'zod';
import ipaddr from 'ipaddr.js';
import { parseDuration } from './duration.js';
import { CheckconfArgsError, DEFAULT_NAMED_CONF, parseCheckconf } from './checkconf-args.js';

/** `bind.verify` or a target's `verify`, resolved: how BIND is asked what it serves (apply/verify.ts). */
export interface VerifySettings {
  server: string;
  port: number;
  /** source address of the query, for a `clients` ACL that must admit it */
  source?: string;
  /** ms */
  timeout: number;
  /** ms between checks while nothing is applied */
  interval: number;
}

/** A `discover` source's timing, resolved (discover/discovery.ts). */
export interface DiscoverySettings {
  /** ms */
  min_refresh: number;
  /** ms */
  max_refresh: number;
  /** ms: how long the last set outlives the last usable answer */
  keep: number;
}

export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (typeof ms === 'string') {
    ctx.addIssue({ code: 'custom', message: ms });
    return z.NEVER;
  }
  return ms;
});

export const argv = z.array(z.string().min(1)).min(1, 'expected a command as a list, e.g. [rndc, reconfig]');

// Names and groups appear in logs, metrics labels and comments in named.conf: keep them plain.
export const label = z.string().regex(/^[A-Za-z0-9][\w.:+-]*$/, 'use letters, digits and . _ : + - only');

/** Why `name` is not a DNS name of plain labels (1..63 octets each, 253 in all), or null if it is. */
export function dnsNameProblem(name: string): string | null {
  const bare = name.endsWith('.') && name.length > 1 ? name.slice(0, -1) : name;
  if (bare.length > 253) return `a DNS name has at most 253 octets (this one ${bare.length})`;
  for (const l of bare.split('.')) {
    if (l.length === 0) return 'a DNS name has no empty labels (two dots in a row, or a leading dot)';
    if (l.length > 63) return `a DNS label has at most 63 octets ("${l.slice(0, 20)}..." has ${l.length})`;
    if (!/^[A-Za-z0-9_-]+$/.test(l)) return `"${l}": use letters, digits, - and _ in DNS labels`;
  }
  return null;
}

export const dnsName = z.string().superRefine((s, ctx) => {
  const problem = dnsNameProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** named-checkconf's command line: refused unless it reads exactly as BIND's usage (see checkconf-args.ts). */
export const checkconf = argv.superRefine((words, ctx) => {
  try {
    parseCheckconf(words);
  } catch (err) {
    if (!(err instanceof CheckconfArgsError)) throw err;
    ctx.addIssue({
      code: 'custom',
      message: `${err.message} (usage: [-chijlvz] [-p [-x]] [-t directory] [named.conf])`,
    });
  }
});

/** Where the rendered text goes when bind.output is not given, per mode. */
export const DEFAULT_OUTPUT = {
  include: '/var/lib/bind/nat64-health/dns64.conf',
  block: '/etc/bind/named.conf.options',
} as const;

/** The keys every BIND target has (the top-level bind: and each target's bind:), with their defaults. */
export const bindFields = {
  mode: z.enum(['include', 'block']).default('include'),
  checkconf: checkconf.default(['named-checkconf', DEFAULT_NAMED_CONF]),
  reload: argv.default(['rndc', 'reconfig']),
  command_timeout: duration.default(15_000),
};

const port = z.number().int().min(1).max(65535);
const ip = z.string().refine((s) => ipaddr.isValid(s) && !s.includes('%'), { message: 'expected an IP address' });

const verifyObject = z.strictObject({
  /** default: the local resolver (::1), or an SSH target's host */
  server: ip.optional(),
  port: port.default(53),
  source: ip.optional(),
  timeout: duration.default(1000),
  interval: duration.default(300_000),
});

/** `bind.verify`: where to ask BIND what it serves (ipv4only.arpa AAAA), or false. */
export const verify = z.union([z.literal(false), verifyObject]).optional();

/** The settings `verify` stands for, with its defaults; null when turned off. */
export function resolveVerify(raw: z.output<typeof verify>, defaultServer: string): VerifySettings | null {
  if (raw === false) return null;
  const v = raw ?? verifyObject.parse({});
  return { ...v, server: v.server ?? defaultServer };
}
