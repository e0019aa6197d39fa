// Field types shared by the config schema and the targets schema.
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { parseDuration } from './duration.js';
import type { VerifySettings } from '../apply/verify.js';
import { CheckconfArgsError, DEFAULT_NAMED_CONF, parseCheckconf } from '../apply/bind/checkconf-args.js';

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
