// The config file's schema. Field names are the YAML keys, so errors and docs speak the operator's words.
import * as z from 'zod';
import ipaddr from 'ipaddr.js';
import { argv, bindFields, dnsName, dnsNameProblem, duration, label, verify } from './schema-types.js';
import { parsePrefix, PrefixError } from '../lib/prefix.js';
import { targetsSchema } from './targets.js';
import { parseListen } from './listen.js';

/** `history.keep`: how many applies the apply history keeps per target (apply/history.ts) */
export const DEFAULT_HISTORY_KEEP = 100;
export const MAX_HISTORY_KEEP = 1000;

const ipv4 = z.string().refine((s) => ipaddr.IPv4.isValidFourPartDecimal(s), {
  message: 'expected an IPv4 address such as 192.0.2.10 (probes reach IPv4 targets through the NAT64)',
});
const port = z.number().int().min(1).max(65535);
const MIN_ROUND_MS = 100;

// The HTTP probe's request line and Host header: what Node's http.request would refuse (it throws),
// and what a server could read as a second header, is refused here with the field's name.
const httpPath = z
  .string()
  .regex(/^\/[\x21-\x7e]*$/, 'a path starts with / and holds printable ASCII only, no spaces (percent-encode the rest)')
  .default('/');
const httpHost = z.string().superRefine((s, ctx) => {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(s);
  const problem = !m
    ? 'expected a host name or address, optionally with :port (no spaces, CR or LF)'
    : m[1] !== undefined
      ? ipaddr.IPv6.isValid(m[1])
        ? null
        : `"${m[1]}" is not an IPv6 address`
      : ipaddr.IPv4.isValidFourPartDecimal(m[2]!)
        ? null
        : dnsNameProblem(m[2]!);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
  else if (m?.[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535))
    ctx.addIssue({ code: 'custom', message: `port ${m[3]} is not 1..65535` });
});

export const prefixText = z.string().transform((s, ctx) => {
  try {
    return parsePrefix(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof PrefixError ? err.message : String(err) });
    return z.NEVER;
  }
});

const prefixObject = z.strictObject({
  prefix: prefixText,
  name: label.optional(),
  group: label.optional(),
});

const ipAddress = z
  .string()
  .refine((s) => ipaddr.isValid(s) && !s.includes('%'), { message: 'expected an IP address such as 2001:db8::53' });

// RFC 7050: the NAT64 prefixes a DNS64 resolver uses, asked of it (src/discover/discovery.ts states the rules).
const discoverObject = z.strictObject({
  discover: z
    .strictObject({
      server: ipAddress,
      port: port.default(53),
      timeout: duration.refine((ms) => ms >= MIN_ROUND_MS && ms <= 10_000, 'between 100ms and 10s').default(1000),
      min_refresh: duration.refine((ms) => ms >= 1000, 'at least 1s').default(60_000),
      max_refresh: duration.default(3_600_000),
      keep: duration.default(3_600_000),
    })
    .superRefine((d, ctx) => {
      if (d.max_refresh < d.min_refresh)
        ctx.addIssue({ code: 'custom', path: ['max_refresh'], message: 'max_refresh is shorter than min_refresh' });
    }),
  /** the discovered prefixes are named NAME-1, NAME-2, ... in prefix order */
  name: label.default('discovered'),
  group: label.optional(),
});

export type PrefixEntry = z.output<typeof prefixObject>;
export type DiscoverEntry = z.output<typeof discoverObject>;

// A bare string is shorthand for { prefix: ... }; an object with `discover` is a discovery source.
// The schema is picked by that key rather than tried in turn (a zod union), so errors stay the entry's own.
const prefixEntry = z.unknown().transform((v, ctx): PrefixEntry | DiscoverEntry => {
  const input = typeof v === 'string' ? { prefix: v } : v;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    ctx.addIssue({ code: 'custom', message: 'expected a prefix, { prefix: ... } or { discover: { server: ... } }' });
    return z.NEVER;
  }
  const schema = 'discover' in input ? discoverObject : prefixObject;
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue(issue as never);
  return z.NEVER;
});

const probe = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('tcp'), address: ipv4, port }),
  z.strictObject({
    type: z.literal('http'),
    address: ipv4,
    port: port.default(80),
    path: httpPath,
    host: httpHost.optional(),
    expect_status: z.number().int().min(100).max(599).default(200),
  }),
  z.strictObject({
    type: z.literal('dns'),
    address: ipv4,
    port: port.default(53),
    name: dnsName,
    record: z.enum(['A', 'AAAA', 'TXT', 'MX', 'NS', 'SOA', 'CNAME']).default('A'),
  }),
  z.strictObject({ type: z.literal('icmp'), address: ipv4 }),
]);

// A round probes every target through every prefix and writes the state file: a zero interval is a
// busy loop, and tens of thousands of prefixes are a mistake (and cost memory just to validate).
const roundDuration = duration.refine((ms) => ms >= MIN_ROUND_MS, {
  message: `at least ${MIN_ROUND_MS}ms (a round probes every target through every prefix)`,
});
export const MAX_PREFIXES = 256;
export const MAX_PROBES = 32;
/** Each pool is one more selection per round and one more block in every dns64 statement's ACL. */
export const MAX_POOLS = 16;
/** The pool of the clients in no configured pool: it selects by `select` (and is no pool name). */
export const DEFAULT_POOL = 'default';

// ACL elements go verbatim into named.conf: refuse what could end the statement or the block.
const acl = z.array(z.string().regex(/^[^;{}"\n]+$/, 'an ACL element must not contain ; { } " or a newline'));

export const configSchema = z
  .strictObject({
    prefixes: z
      .array(prefixEntry)
      .superRefine((list, ctx) => {
        if (list.length > MAX_PREFIXES)
          ctx.addIssue({
            code: 'custom',
            message: `at most ${MAX_PREFIXES} prefixes can be probed (${list.length} are listed)`,
          });
      })
      .default([]),
    prefixes_file: z.string().min(1).optional(),
    probes: z
      .array(probe)
      .min(1, 'at least one probe target is needed')
      .superRefine((list, ctx) => {
        if (list.length > MAX_PROBES)
          ctx.addIssue({
            code: 'custom',
            message: `at most ${MAX_PROBES} probe targets (${list.length} are listed)`,
          });
      }),
    health: z
      .strictObject({
        interval: roundDuration.default(5000),
        timeout: roundDuration.default(1000),
        rise: z.number().int().min(1).default(2),
        fall: z.number().int().min(1).default(3),
        fast_interval: roundDuration.default(1000),
        quorum: z.number().int().min(1).default(1),
        /** spread each wait by up to this fraction, so many daemons do not probe in step */
        jitter: z.number().min(0).max(0.5).default(0),
        /** smoothing factor of the latency EWMA: weight of the newest round */
        latency_alpha: z.number().gt(0).max(1).default(0.3),
        /** how many recent rounds the loss ratio is counted over */
        loss_window: z.number().int().min(1).max(1000).default(20),
        /** a bad round is confirmed at once by a burst of probes (src/health/confirm.ts) */
        confirm_burst: z.boolean().default(false),
      })
      .prefault({}),
    select: z
      .strictObject({
        min_active: z.number().int().min(1).default(2),
        max_active: z.number().int().min(1).default(3),
        groups: z.array(label).default([]),
        drain: duration.default(3_600_000),
        /** a challenger must be this much faster (fraction) ... */
        switch_margin: z.number().min(0).max(1).default(0.2),
        /** ... and at least this many ms faster ... */
        switch_min_gain: duration.default(10),
        /** ... for this long before it replaces an active prefix of the same group */
        switch_after: duration.default(120_000),
        /** what a lost probe costs in the ranking score: latency + loss ratio x this */
        loss_penalty: duration.default(1000),
      })
      .prefault({}),
    /**
     * Client pools: each client belongs to the first pool whose `clients` admit it and gets that
     * pool's selection (its own group order and set size); clients in no pool: `select` as ever.
     */
    pools: z
      .array(
        z.strictObject({
          name: label.refine((n) => n !== DEFAULT_POOL, {
            message: `"${DEFAULT_POOL}" is the pool of the clients in no pool; choose another name`,
          }),
          clients: acl.min(1, 'at least one ACL element (an address, a prefix or the name of an acl)'),
          /** its group order; absent: select.groups */
          groups: z.array(label).optional(),
          /** absent: select.min_active / select.max_active */
          min_active: z.number().int().min(1).optional(),
          max_active: z.number().int().min(1).optional(),
        }),
      )
      .max(MAX_POOLS, `at most ${MAX_POOLS} pools`)
      .default([]),
    bind: z
      .strictObject({
        ...bindFields,
        output: z.string().min(1).optional(),
        template: z.string().min(1).default('dns64.conf.hbs'),
        verify,
        dns64: z
          .strictObject({
            clients: acl.default(['any']),
            exclude: acl.optional(),
            mapped: acl.optional(),
            suffix: z
              .string()
              .refine((s) => ipaddr.IPv6.isValid(s), { message: 'expected an IPv6 address such as ::' })
              .optional(),
            recursive_only: z.boolean().optional(),
            break_dnssec: z.boolean().optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    state_file: z.string().min(1).default('/var/lib/nat64-health/state.json'),
    /** the BIND servers to manage; absent: only the local one (bind:) */
    targets: targetsSchema,
    /** commands run on changes (src/daemon/notify.ts); argv lists, never a shell */
    hooks: z
      .strictObject({
        on_change: argv.optional(),
        on_state: argv.optional(),
        // at most 60s: the unit's stop (TimeoutStopSec=2min) waits for running hooks up to this long
        timeout: duration
          .refine((ms) => ms >= 100, { message: 'at least 100ms' })
          .refine((ms) => ms <= 60_000, { message: 'at most 60s' })
          .default(10_000),
      })
      .prefault({}),
    /** the apply history beside the state file (src/apply/history.ts); keep: 0 writes none */
    history: z
      .strictObject({
        keep: z
          .number()
          .int()
          .min(0)
          .max(MAX_HISTORY_KEEP, `at most ${MAX_HISTORY_KEEP} applies per target`)
          .default(DEFAULT_HISTORY_KEEP),
      })
      .prefault({}),
    /** metrics and status page; off when absent, on loopback when `http: {}` */
    http: z
      .strictObject({
        listen: z
          .string()
          .superRefine((s, ctx) => {
            const r = parseListen(s);
            if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
          })
          .default('127.0.0.1:9464'),
      })
      .optional(),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.select.min_active > cfg.select.max_active) {
      ctx.addIssue({
        code: 'custom',
        path: ['select', 'min_active'],
        message: `min_active (${cfg.select.min_active}) is larger than max_active (${cfg.select.max_active})`,
      });
    }
    if (cfg.health.timeout > cfg.health.interval) {
      ctx.addIssue({ code: 'custom', path: ['health', 'timeout'], message: 'timeout is longer than interval' });
    }
    if (cfg.health.quorum > cfg.probes.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['health', 'quorum'],
        message: `quorum ${cfg.health.quorum} is more than the ${cfg.probes.length} probe target(s)`,
      });
    }
    const groups = new Set(cfg.select.groups);
    const poolNames = new Map<string, number>();
    cfg.pools.forEach((pool, i) => {
      const first = poolNames.get(pool.name);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['pools', i, 'name'], message: `pools[${first}] has this name` });
      else poolNames.set(pool.name, i);
      const min = pool.min_active ?? cfg.select.min_active;
      const max = pool.max_active ?? cfg.select.max_active;
      if (min > max)
        ctx.addIssue({
          code: 'custom',
          path: ['pools', i, pool.min_active !== undefined ? 'min_active' : 'max_active'],
          message: `min_active (${min}) is larger than max_active (${max})`,
        });
      (pool.groups ?? []).forEach((g, j) => {
        // a prefix's group must be in select.groups: any other group would hold no prefix
        if (groups.size > 0 && !groups.has(g))
          ctx.addIssue({
            code: 'custom',
            path: ['pools', i, 'groups', j],
            message: `group "${g}" is not listed in select.groups (${[...groups].join(', ')})`,
          });
      });
    });
    cfg.prefixes.forEach((p, i) => {
      const first = 'discover' in p ? cfg.prefixes.findIndex((q) => 'discover' in q && sameSource(q, p)) : i;
      if (first < i) {
        ctx.addIssue({
          code: 'custom',
          path: ['prefixes', i, 'discover'],
          message: `this server and port are already a discovery source (prefixes[${first}])`,
        });
      }
      if (p.group !== undefined && groups.size > 0 && !groups.has(p.group)) {
        ctx.addIssue({
          code: 'custom',
          path: ['prefixes', i, 'group'],
          message: `group "${p.group}" is not listed in select.groups (${[...groups].join(', ')})`,
        });
      }
    });
  });

function sameSource(a: DiscoverEntry, b: DiscoverEntry): boolean {
  return (
    a.discover.port === b.discover.port &&
    ipaddr.parse(a.discover.server).toString() === ipaddr.parse(b.discover.server).toString()
  );
}

export type RawConfig = z.output<typeof configSchema>;
export type ProbeSpec = RawConfig['probes'][number];
