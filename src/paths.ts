import { fileURLToPath } from 'node:url';

/** Default config path; --config overrides. */
export const DEFAULT_CONFIG_PATH = '/etc/nat64-health/config.yaml';

/** Templates shipped with the package (src/ and dist/ both sit beside templates/). */
export const TEMPLATES_DIR = process.env.NAT64_HEALTH_TEMPLATES ?? fileURLToPath(new URL('../templates/', import.meta.url));
