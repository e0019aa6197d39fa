// ssh2 is loaded on first use: most installations have no SSH target, and loading it costs
// several MB of the daemon's memory (see docs/benchmarks.md).
import type ssh2Module from 'ssh2';

type Ssh2 = typeof ssh2Module;
let loaded: Ssh2 | undefined;

export async function loadSsh2(): Promise<Ssh2> {
  loaded ??= (await import('ssh2')).default;
  return loaded;
}

/** The module, once loadSsh2() has resolved (for code that must stay synchronous). */
export function ssh2(): Ssh2 {
  if (!loaded) throw new Error('ssh2 is not loaded yet: await loadSsh2() first');
  return loaded;
}
