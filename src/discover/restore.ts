// What the previous run discovered, read back from its state file, and the prefix set that makes:
// the one model of "the prefixes the daemon works on" that the daemon's restart, `maintenance` and
// its guard share. Pure.
import * as z from 'zod';
import type { Config, DiscoverSource } from '../config/load.js';
import { parsePrefix } from '../lib/prefix.js';
import type { DiscoveryState } from './discovery.js';
import { withDiscovered } from './prefixes.js';

const previousSchema = z.array(
  z.looseObject({ source: z.string(), prefixes: z.array(z.string()), answered_at: z.string().nullable() }),
);

/**
 * The sources' states from a state file's `discovery`: only sources still configured, only
 * well-formed prefixes and times (an answer in the future is not trusted). Each source is due at
 * once. `dropped` says what was left out, for the log.
 */
export function restoredDiscovery(
  previous: unknown,
  sources: readonly Pick<DiscoverSource, 'id'>[],
  now: number,
): { states: Map<string, DiscoveryState>; dropped: string[] } {
  const states = new Map<string, DiscoveryState>();
  const dropped: string[] = [];
  const parsed = previousSchema.safeParse(previous);
  if (!parsed.success) return { states, dropped: previous === undefined ? [] : ['discovery: not a list of sources'] };
  for (const d of parsed.data) {
    if (!sources.some((s) => s.id === d.source) || d.answered_at === null) continue;
    const at = Date.parse(d.answered_at);
    if (!Number.isFinite(at) || at > now) {
      dropped.push(`discovery ${d.source}: answered_at ${JSON.stringify(d.answered_at)} is not a past time`);
      continue;
    }
    const prefixes = d.prefixes.flatMap((text) => {
      try {
        return [parsePrefix(text).text];
      } catch (err) {
        dropped.push(`discovery ${d.source}: ${JSON.stringify(text)}: ${(err as Error).message}`);
        return [];
      }
    });
    states.set(d.source, {
      prefixes: [...new Set(prefixes)].sort(),
      answered_at: at,
      next_at: now,
      error: null,
      kept_until: null,
    });
  }
  return { states, dropped };
}

/**
 * The prefixes the daemon works on, as its state file says: the configured ones (the config and
 * its prefixes file) and those its discovery sources had found (state file `discovery`), merged as
 * the daemon merges them (withDiscovered: same order, names and groups). Without a state file, or
 * one without `discovery`, the configured prefixes only.
 */
export function effectivePrefixes<C extends Pick<Config, 'prefixes' | 'discover'>>(
  config: C,
  recorded: { discovery?: unknown } | null,
  now: number,
): C {
  const { states } = restoredDiscovery(recorded?.discovery, config.discover, now);
  return withDiscovered(config, new Map([...states].map(([id, s]) => [id, s.prefixes]))).config;
}
