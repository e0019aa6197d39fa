// Config builders for daemon tests that send no packets: the prefixes, one TCP probe target, rounds
// an hour apart (the test plays the rounds) and rise/fall 1, unless a test says otherwise.
import { parseConfig, type Config } from '../../src/config/load.js';
import { TARGET } from './daemon-fixture.js';

export interface TestConfig {
  prefixes: readonly string[];
  stateFile: string;
  /** `health:` settings over the defaults above */
  health?: Record<string, string | number>;
  /** `select:` settings, if any */
  select?: Record<string, string | number>;
  /** further top-level YAML lines */
  extra?: string;
}

/** The YAML text of such a config. */
export function testConfigYaml(o: TestConfig): string {
  const flow = (m: Record<string, string | number>) =>
    Object.entries(m)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const health = { interval: '1h', fast_interval: '1h', timeout: '1s', rise: 1, fall: 1, ...o.health };
  return (
    `prefixes: [${o.prefixes.join(', ')}]\n` +
    `probes: [{ type: tcp, address: ${TARGET}, port: 80 }]\n` +
    `health: { ${flow(health)} }\n` +
    (o.select ? `select: { ${flow(o.select)} }\n` : '') +
    `state_file: ${o.stateFile}\n` +
    (o.extra ?? '')
  );
}

/** Such a config, parsed (relative paths from `dir`). */
export function testConfig(o: TestConfig, dir = '/'): Config {
  return parseConfig(testConfigYaml(o), 'c.yaml', dir);
}
