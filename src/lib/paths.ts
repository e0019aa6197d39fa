import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Default config path; --config overrides. */
export const DEFAULT_CONFIG_PATH = '/etc/nat64-health/config.yaml';

/**
 * The package's root: the nearest folder above this module that holds templates/. That is the
 * repository (or the npm package) for dist/lib/paths.js, and /usr/share/nat64-health for the Debian
 * package, whose bundle lies in lib/ beside templates/ and the package.json scripts/bundle.mjs writes.
 */
function packageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'templates'))) return dir;
    if (path.dirname(dir) === dir) return path.dirname(here);
  }
}

const ROOT = packageRoot();

/** Templates shipped with the package. */
export const TEMPLATES_DIR = process.env.NAT64_HEALTH_TEMPLATES ?? path.join(ROOT, 'templates') + path.sep;

/**
 * The version in the package's package.json (beside templates/). yargs' own guess searches upwards from the working
 * directory when the code is not under node_modules, and would report whatever project the
 * operator happens to be in.
 */
export function packageVersion(): string {
  try {
    return (
      (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown'
    );
  } catch {
    return 'unknown';
  }
}
