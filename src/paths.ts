import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Default config path; --config overrides. */
export const DEFAULT_CONFIG_PATH = '/etc/nat64-health/config.yaml';

/** Templates shipped with the package (src/ and dist/ both sit beside templates/). */
export const TEMPLATES_DIR =
  process.env.NAT64_HEALTH_TEMPLATES ?? fileURLToPath(new URL('../templates/', import.meta.url));

/**
 * The version in package.json beside dist/ (in the Debian package: beside lib/, the bundle's
 * directory). yargs' own guess searches upwards from the working directory when the code is not
 * under node_modules, and would report whatever project the operator happens to be in.
 */
export function packageVersion(): string {
  try {
    return (
      (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ??
      'unknown'
    );
  } catch {
    return 'unknown';
  }
}
