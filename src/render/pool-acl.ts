// The `clients` ACL of one prefix's dns64 statement when clients are split into pools. Pure.
//
// A client belongs to the first pool (config order) whose ACL admits it; clients in no pool form the
// default pool, limited by bind.dns64.clients. BIND synthesizes with every dns64 statement whose
// `clients` admit the client, so a prefix's statement must admit a client exactly when the client's
// pool uses the prefix.
//
// The ACL walks the pools in the same order: `{ <pool's elements>; }` for a pool that uses the prefix,
// `!{ <pool's elements>; none; }` for one that does not, then the default pool's elements if it uses
// the prefix. This works because BIND takes the first element that matches, and a nested ACL matches
// only where it admits the client: a negative match inside it (a pool's own `!hole`) counts as no
// match (lib/dns/acl.c), so such a client goes on to the next pool, as it does when pools are assigned.
// `!{ A; }` therefore denies exactly the members of A.
//
// The `none` closing a negated block changes nothing in what it matches (only a positive match inside
// counts), but keeps BIND from merging the block into the outer ACL. BIND merges a nested ACL without
// negations into its parent, and merging a negated one turns an earlier positive entry for the same
// address prefix negative (dns_iptable_merge): with named 9.18 `{ P; }; !{ P; };` admits no client of P.
// For the same reason the elements of the last block stay in braces unless the block is all there is:
// inlined, a `!name` among them (a named acl without negations of its own) would be such a merge.
//
// Simplified only where it is equivalent: negated blocks after the last positive one are dropped (a
// client they deny is not admitted anyway), nothing after a block opening with `any` is reached,
// a statement nobody may use says `none`, and one whose every block admits, ending in `any`, says `any`.
// Same inputs, same elements in the same order: the daemon reloads BIND whenever the text changes.
import { DEFAULT_POOL } from '../config/schema.js';

export { DEFAULT_POOL };

/** One pool: its name and its `clients`, BIND ACL elements (addresses, prefixes, `!x`, acl names). */
export interface PoolClients {
  name: string;
  clients: readonly string[];
}

interface Block {
  negated: boolean;
  elements: readonly string[];
}

const isAny = (element: string | undefined): boolean => element?.trim().toLowerCase() === 'any';

/** BIND text of an address match list, e.g. `{ 2001:db8:a::/48; !{ 192.0.2.0/24; none; }; }`. */
export function aclText(elements: readonly string[]): string {
  return `{ ${elements.map((e) => `${e}; `).join('')}}`;
}

function blockText(block: Block): string {
  return block.negated ? `!${aclText([...block.elements, 'none'])}` : aclText(block.elements);
}

function checkNames(pools: readonly PoolClients[], using: ReadonlySet<string>): void {
  const names = new Set<string>();
  for (const { name } of pools) {
    if (name === DEFAULT_POOL) throw new Error(`a pool cannot be named "${DEFAULT_POOL}": that is the default pool`);
    if (names.has(name)) throw new Error(`pool "${name}" is listed twice`);
    names.add(name);
  }
  for (const name of using) {
    if (name !== DEFAULT_POOL && !names.has(name)) throw new Error(`"${name}" uses a prefix but is no pool`);
  }
}

/**
 * The `clients` elements of a prefix's dns64 statement: they admit a client exactly when the client's
 * pool is in `using` (pool names, DEFAULT_POOL for the clients in no pool).
 */
export function clientsAcl(
  pools: readonly PoolClients[],
  defaultClients: readonly string[],
  using: ReadonlySet<string>,
): string[] {
  checkNames(pools, using);
  const blocks: Block[] = [];
  let reachesDefault = true;
  for (const pool of pools) {
    if (pool.clients.length === 0) continue; // admits nobody: neither admits nor holds anybody back
    blocks.push({ negated: !using.has(pool.name), elements: pool.clients });
    if (isAny(pool.clients[0])) {
      reachesDefault = false; // every client that gets here is in this pool
      break;
    }
  }
  if (reachesDefault && using.has(DEFAULT_POOL) && defaultClients.length > 0)
    blocks.push({ negated: false, elements: defaultClients });

  while (blocks.at(-1)?.negated) blocks.pop();
  const last = blocks.at(-1);
  if (last === undefined) return ['none'];
  if (blocks.length === 1) return [...last.elements];
  if (isAny(last.elements[0]) && blocks.every((b) => !b.negated)) return ['any'];
  return blocks.map(blockText);
}
