// A model of how BIND 9.18 matches a client address against an address match list (`clients { ... }`),
// for tests: it compiles the elements as lib/isccfg/aclconf.c does and matches as lib/dns/acl.c does,
// and test/integration/render/pool-acl.test.ts holds it to a real named.
//
// - Elements are tried in order, the first that matches decides: allow, or deny if it is negated (`!`).
// - A nested list `{ ... }`, a named acl, `localhost` and `localnets` are matched on their own, and
//   only a positive match there counts: a negative one is no match for the outer element.
// - But BIND keeps a nested list (or named acl) apart only when it has a negated element or `none`;
//   one without is merged into the outer list. Merged under a `!`, each of its address prefixes is
//   made negative in the outer list even where an earlier element put the same prefix positive
//   (dns_iptable_merge): `{ P; }; !{ P; };` admits no client of P.
// - `any` and `none` cover both families; `::/0` only IPv6 and `0.0.0.0/0` only IPv4.
// Not modelled: keys, GeoIP, `match-mapped-addresses` (a v4-mapped client is an IPv6 address here).
import ipaddr from 'ipaddr.js';

/** allow: a positive match; deny: a negated one; none: nothing matched (BIND admits only allow) */
export type Verdict = 'allow' | 'deny' | 'none';

export interface AclEnv {
  /** `acl NAME { ... };` definitions */
  acls?: ReadonlyMap<string, readonly string[]>;
  /** named's own addresses and networks (prefixes), for `localhost` and `localnets` */
  localhost?: readonly string[];
  localnets?: readonly string[];
}

type Family = 'ipv4' | 'ipv6';

/** a parsed element: `!`? then a word (address, prefix, keyword, acl name) or a nested list */
type Element = { negated: boolean } & ({ word: string } | { list: Element[] });

/** BIND's iptable entry: one address prefix of one family, with its place in the list and its sense. */
interface Entry {
  family: Family;
  network: ipaddr.IPv4 | ipaddr.IPv6;
  length: number;
  num: number;
  positive: boolean;
}

/** an element matched on its own (kept-apart nested list, named acl, localhost, localnets) */
interface Indirect {
  num: number;
  negative: boolean;
  acl: Compiled;
}

interface Compiled {
  entries: Map<string, Entry>;
  indirect: Indirect[];
  hasNegatives: boolean;
  /** BIND's node count: the last number handed out */
  count: number;
}

const MAX_DEPTH = 16;

// ---- parsing ------------------------------------------------------------------------------------

function parseElement(text: string): Element {
  const tokens = text.match(/[{};!]|[^\s{};!]+/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`ACL element "${text}": ${why}`);
  };
  const element = (): Element => {
    const negated = tokens[i] === '!';
    if (negated) i++;
    if (tokens[i] === '{') {
      i++;
      const list: Element[] = [];
      while (tokens[i] !== '}') {
        if (i >= tokens.length) fail('unclosed {');
        list.push(element());
        if (tokens[i++] !== ';') fail('missing ;');
      }
      i++;
      return { negated, list };
    }
    const word = tokens[i++];
    if (word === undefined || /^[{};!]$/.test(word)) fail(`unexpected ${word ?? 'end'}`);
    return { negated, word: word as string };
  };
  const parsed = element();
  if (i !== tokens.length) fail(`unexpected ${tokens[i]}`);
  return parsed;
}

/** an address or prefix as BIND takes it; null if the word is no address. Throws on host bits set. */
function parsePrefix(word: string): { family: Family; network: ipaddr.IPv4 | ipaddr.IPv6; length: number } | null {
  const [addr = '', len] = word.split('/');
  const isV4 = ipaddr.IPv4.isValidFourPartDecimal(addr);
  if (!isV4 && !ipaddr.IPv6.isValid(addr)) return null;
  const network = ipaddr.parse(addr);
  const bits = isV4 ? 32 : 128;
  const length = len === undefined ? bits : Number(len);
  if (!Number.isInteger(length) || length < 0 || length > bits) throw new Error(`bad prefix length in ${word}`);
  const family: Family = isV4 ? 'ipv4' : 'ipv6';
  // BIND refuses a prefix with host bits set ("address/prefix length mismatch")
  const cidr = `${addr}/${length}`;
  const masked = isV4 ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  if (masked.toString() !== network.toString()) throw new Error(`${word}: address/prefix length mismatch`);
  return { family, network, length };
}

// ---- compiling (lib/isccfg/aclconf.c, cfg_acl_fromconfig) ----------------------------------------

const empty = (): Compiled => ({ entries: new Map(), indirect: [], hasNegatives: false, count: 0 });

/** dns_iptable_addprefix: the first entry for a prefix stays, number and sense. */
function addPrefix(acl: Compiled, family: Family, network: ipaddr.IPv4 | ipaddr.IPv6, length: number, pos: boolean) {
  const key = `${family}|${network.toString()}/${length}`;
  if (!acl.entries.has(key)) acl.entries.set(key, { family, network, length, num: ++acl.count, positive: pos });
}

/** `any` (pos) or `none` (!pos): the zero-length prefix of both families, one number for both. */
function addAny(acl: Compiled, pos: boolean): void {
  const slots: Array<[Family, ipaddr.IPv4 | ipaddr.IPv6]> = [
    ['ipv4', ipaddr.parse('0.0.0.0')],
    ['ipv6', ipaddr.parse('::')],
  ];
  const missing = slots.filter(([f, n]) => !acl.entries.has(`${f}|${n.toString()}/0`));
  if (missing.length === 0) return;
  const num = ++acl.count;
  for (const [family, network] of missing)
    acl.entries.set(`${family}|${network.toString()}/0`, { family, network, length: 0, num, positive: pos });
}

/** dns_acl_merge + dns_iptable_merge: renumbered after dest; under `!` (pos false) positives turn negative. */
function merge(dest: Compiled, source: Compiled, pos: boolean): void {
  const base = dest.count;
  let maxIndirect = 0;
  for (const e of source.indirect) {
    maxIndirect = Math.max(maxIndirect, e.num);
    dest.indirect.push({ ...e, num: e.num + base, negative: e.negative || !pos });
  }
  let maxEntry = 0;
  for (const [key, e] of source.entries) {
    if (!dest.entries.has(key)) dest.entries.set(key, { ...e, num: e.num + base });
    // the quirk: this overwrites the sense of an entry that was already there
    if (!pos && e.positive) dest.entries.get(key)!.positive = false;
    maxEntry = Math.max(maxEntry, e.num);
  }
  dest.count += maxEntry;
  dest.count = Math.max(dest.count, base + maxIndirect);
}

function compile(list: readonly Element[], env: AclEnv, depth: number): Compiled {
  if (depth > MAX_DEPTH) throw new Error('ACLs nested too deep (a loop of named acls?)');
  const acl = empty();
  const indirect = (negative: boolean, inner: Compiled) =>
    acl.indirect.push({ num: ++acl.count, negative, acl: inner });
  for (const el of list) {
    if (el.negated) acl.hasNegatives = true;
    const nested = (inner: Compiled) =>
      inner.hasNegatives ? indirect(el.negated, inner) : merge(acl, inner, !el.negated);
    if ('list' in el) {
      nested(compile(el.list, env, depth + 1));
      continue;
    }
    const word = el.word.toLowerCase();
    const prefix = parsePrefix(el.word);
    if (prefix) addPrefix(acl, prefix.family, prefix.network, prefix.length, !el.negated);
    else if (word === 'any') addAny(acl, !el.negated);
    else if (word === 'none') {
      addAny(acl, el.negated); // none is !any, and !none is any
      if (!el.negated) acl.hasNegatives = true;
    } else if (word === 'localhost' || word === 'localnets') {
      const own = word === 'localhost' ? env.localhost : env.localnets;
      if (own === undefined) throw new Error(`${word}: give the model named's addresses`);
      indirect(el.negated, compile(own.map(parseElement), env, depth + 1));
    } else {
      const definition = env.acls?.get(el.word);
      if (definition === undefined) throw new Error(`undefined acl "${el.word}"`);
      nested(compile(definition.map(parseElement), env, depth + 1));
    }
  }
  return acl;
}

// ---- matching (lib/dns/acl.c, dns_acl_match) ----------------------------------------------------

/** > 0: allowed by the element so numbered; < 0: denied; 0: no match */
function matchNumber(acl: Compiled, client: ipaddr.IPv4 | ipaddr.IPv6): number {
  let best: Entry | undefined;
  for (const e of acl.entries.values()) {
    if (e.family !== client.kind() || (e.length > 0 && !client.match(e.network, e.length))) continue;
    if (best === undefined || e.num < best.num) best = e;
  }
  let result = best === undefined ? 0 : best.positive ? best.num : -best.num;
  for (const e of acl.indirect) {
    if (best !== undefined && best.num < e.num) break;
    // a negative match inside is no match
    if (matchNumber(e.acl, client) > 0) {
      result = e.negative ? -e.num : e.num;
      break;
    }
  }
  return result;
}

/** An address match list compiled once, to match many clients against (`dns_acl_match`). */
export function compileAcl(elements: readonly string[], env: AclEnv = {}): (client: string) => Verdict {
  const acl = compile(elements.map(parseElement), env, 0);
  return (client) => {
    const n = matchNumber(acl, ipaddr.parse(client));
    return n > 0 ? 'allow' : n < 0 ? 'deny' : 'none';
  };
}

/** What BIND makes of `client` against the address match list `elements`. */
export function matchAcl(elements: readonly string[], client: string, env: AclEnv = {}): Verdict {
  return compileAcl(elements, env)(client);
}
