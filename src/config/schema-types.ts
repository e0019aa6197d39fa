// Field types shared by the config schema and the targets schema.
import * as z from 'zod';
import ipaddr from 'ipaddr.js';
import { parseDuration } from './duration.js';
import { CheckconfArgsError, DEFAULT_NAMED_CONF, parseCheckconf } from './checkconf-args.js';

/** `bind.verify` or a target's `verify`, resolved: how BIND is asked what it serves (apply/verify.ts). */
export interface VerifySettings {
  server: string;
  port: number;
  /** source address of the query, for a `clients` ACL that must admit it: the default pool's asker */
  source?: string;
  /** ms */
  timeout: number;
  /** ms between checks while nothing is applied */
  interval: number;
  /**
   * With client pools (`pools:`): the pools asked as one of their clients, each from its own source
   * address (`verify.pools`), in config order; a pool not listed is not asked. Absent: no pools.
   */
  pools?: VerifyPool[];
}

/** A client pool that verification asks: from `source`, which BIND sees as a client of that pool. */
export interface VerifyPool {
  name: string;
  source: string;
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

const verifyObject = z
  .strictObject({
    /** default: the local resolver (::1), or an SSH target's host */
    server: ip.optional(),
    port: port.default(53),
    /** the default pool's asker: an address in no pool */
    source: ip.optional(),
    timeout: duration.default(1000),
    interval: duration.default(300_000),
    /** pool name -> the source address to ask as one of that pool's clients (load.ts checks the names) */
    pools: z.record(label, ip).optional(),
  })
  .superRefine((v, ctx) => {
    // A client is in one pool only: one address cannot ask for two pools, nor for a pool and the default.
    // (zod runs this also when an address was refused: those are left to their own issue)
    const canonical = (a: string) => (ipaddr.isValid(a) ? ipaddr.parse(a).toString() : null);
    const askers = new Map<string | null, string>();
    if (v.source !== undefined) askers.set(canonical(v.source), 'source (the default pool)');
    for (const [name, source] of Object.entries(v.pools ?? {})) {
      const address = canonical(source);
      if (address === null) continue;
      const other = askers.get(address);
      if (other !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['pools', name],
          message: `${source} already asks as ${other}: a client is in one pool only, give each its own address`,
        });
      else askers.set(address, `pool ${name}`);
    }
  });

/** `bind.verify`: where to ask BIND what it serves (ipv4only.arpa AAAA), or false. */
export const verify = z.union([z.literal(false), verifyObject]).optional();

/**
 * The settings `verify` stands for, with its defaults; null when turned off. `poolNames`: the
 * configured client pools, in config order (`verify.pools` names only these: load.ts checks).
 */
export function resolveVerify(
  raw: z.output<typeof verify>,
  defaultServer: string,
  poolNames: readonly string[] = [],
): VerifySettings | null {
  if (raw === false) return null;
  const { pools, ...v } = raw ?? verifyObject.parse({});
  const settings: VerifySettings = { ...v, server: v.server ?? defaultServer };
  if (poolNames.length > 0)
    settings.pools = poolNames.flatMap((name) =>
      pools && Object.hasOwn(pools, name) ? [{ name, source: pools[name]! }] : [],
    );
  return settings;
}
