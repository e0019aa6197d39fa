// What to render for a selection. Pure.
//
// With client pools each pool has its own selection; the default pool's is `selection`. A prefix
// is rendered for the pools whose set holds it, with a `clients` ACL that admits exactly their
// clients (pool-acl.ts); it drains (`clients { none; }`) only once it has left every pool's set
// while some pool still drains it. Without pools this is the one selection, rendered as ever.
import type { Config } from '../config/load.js';
import { DEFAULT_POOL } from '../config/schema.js';
import type { SelectionState } from '../select/select.js';
import { dns64Context, type RenderedPrefix, type TemplateContext } from '../config/template.js';
import { clientsAcl } from './pool-acl.js';

type Rendered = Pick<SelectionState, 'active' | 'draining' | 'failsafe'>;

/** Each pool's selection by pool name; the default pool's is passed on its own. */
export type PoolSelections = ReadonlyMap<string, Pick<SelectionState, 'active' | 'draining'>>;

/** A pool's set as far as the rendering cares: what it uses, and what it drains (prefix -> anything). */
export interface PoolUse {
  name: string;
  active: readonly string[];
  draining: Readonly<Record<string, unknown>>;
}

/**
 * The rule of what is rendered, over every pool's set (the default pool's included): a prefix is
 * rendered for the pools whose set holds it (`using`); it drains once no pool uses it while some
 * pool still drains it. The state file, `status` and the status page say the same by this function.
 */
export function poolUse(sets: readonly PoolUse[]) {
  const using = (id: string) => sets.filter((s) => s.active.includes(id)).map((s) => s.name);
  const drains = (id: string) => sets.some((s) => id in s.draining);
  return { using, drains, renderedDraining: (id: string) => using(id).length === 0 && drains(id) };
}

export function renderContext(
  config: Pick<Config, 'prefixes' | 'bind' | 'pools'>,
  selection: Rendered,
  pools: PoolSelections = new Map(),
): TemplateContext {
  const selections: PoolUse[] = [
    { name: DEFAULT_POOL, ...selection },
    ...config.pools.map((p) => ({ name: p.name, ...(pools.get(p.name) ?? { active: [], draining: {} }) })),
  ];
  const { using, drains } = poolUse(selections);
  const rendered = (id: string, name: string, group: string | null): RenderedPrefix => {
    const users = using(id);
    const active = users.length > 0;
    return {
      prefix: id,
      name,
      group,
      active,
      draining: !active,
      clients: active ? clientsAcl(config.pools, config.bind.dns64.clients, new Set(users)) : ['none'],
      pools: users,
    };
  };
  const configured = new Set(config.prefixes.map((p) => p.id));
  const prefixes: RenderedPrefix[] = [
    ...config.prefixes
      .filter((p) => using(p.id).length > 0 || drains(p.id))
      .map((p) => rendered(p.id, p.name, p.group)),
    // removed from the config but still draining: after the configured ones, in a stable order
    ...[...new Set(selections.flatMap((s) => Object.keys(s.draining)))]
      .filter((id) => !configured.has(id))
      .sort()
      .map((id) => rendered(id, id, null)),
  ];
  return {
    prefixes,
    active: prefixes.filter((p) => p.active),
    draining: prefixes.filter((p) => p.draining),
    dns64: dns64Context(config.bind.dns64),
    failsafe: selection.failsafe,
    pools: config.pools.map((p) => ({ name: p.name, clients: p.clients })),
  };
}

export function renderDns64(
  config: Pick<Config, 'prefixes' | 'bind' | 'template' | 'pools'>,
  selection: Rendered,
  pools: PoolSelections = new Map(),
): string {
  return config.template.render(renderContext(config, selection, pools));
}

/** Every configured prefix active for every client: the plain static configuration (`render --static`). */
export function staticSelection(config: Pick<Config, 'prefixes'>): Rendered {
  return { active: config.prefixes.map((p) => p.id), draining: {}, failsafe: false };
}

/** The static configuration for every client, in every pool (`render --static`, `validate --bind`). */
export function renderStatic(config: Pick<Config, 'prefixes' | 'bind' | 'template' | 'pools'>): string {
  const pools = new Map(config.pools.map((p) => [p.name, staticSelection(config)]));
  return renderDns64(config, staticSelection(config), pools);
}
