// The prefixes a round works on: the configured ones, then the discovered ones. Pure.
import type { Config, PrefixConfig } from '../config/load.js';
import { parsePrefix } from '../lib/prefix.js';
import { MAX_PREFIXES } from '../config/schema.js';

/**
 * The config with each source's discovered prefixes (canonical texts) added after the configured
 * ones, in source order, named NAME-1, NAME-2, ... in prefix order (counting the added ones) and in the
 * source's group.
 * A prefix both configured and discovered is the configured one (marked as discovered too); one
 * found by two sources belongs to the first. Beyond MAX_PREFIXES in all, the rest are left out.
 */
export function withDiscovered<C extends Pick<Config, 'prefixes' | 'discover'>>(
  config: C,
  sets: ReadonlyMap<string, readonly string[]>,
): { config: C; left_out: string[] } {
  const prefixes: PrefixConfig[] = config.prefixes.map((p) => ({ ...p }));
  const byId = new Map(prefixes.map((p) => [p.id, p]));
  const left_out: string[] = [];
  for (const source of config.discover) {
    let k = 0;
    for (const text of [...(sets.get(source.id) ?? [])].sort()) {
      const seen = byId.get(text);
      if (seen) {
        seen.discovered ??= source.id;
        continue;
      }
      if (prefixes.length >= MAX_PREFIXES) {
        left_out.push(text);
        continue;
      }
      const p: PrefixConfig = {
        prefix: parsePrefix(text),
        id: text,
        name: `${source.name}-${++k}`,
        group: source.group,
        groupRank: source.groupRank,
        order: prefixes.length,
        origin: `discovered from ${source.id} (${source.origin})`,
        discovered: source.id,
      };
      prefixes.push(p);
      byId.set(text, p);
    }
  }
  return { config: { ...config, prefixes }, left_out };
}
