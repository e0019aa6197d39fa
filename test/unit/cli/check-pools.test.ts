// `check` with client pools (issue 21): the one round's decision, each pool's set; without pools
// nothing about sets is printed. The probes are canned (no packets): the test says which answer.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../../../src/cli/commands/check.js';
import { EXIT, type Common, type Io } from '../../../src/cli/common.js';
import { cannedProber } from '../../support/canned-prober.js';
import { A, B, C } from '../../support/prefixes.js';

const PREFIXES = `prefixes:
  - { prefix: "${A}", group: site-a }
  - { prefix: "${B}", group: site-b }
  - { prefix: "${C}", group: public }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
select: { groups: [site-a, site-b, public], min_active: 1, max_active: 1 }
`;
const POOLS = `pools:
  - { name: site-a, clients: ["2001:db8:a::/48"], groups: [site-a, site-b, public] }
  - { name: site-b, clients: ["2001:db8:b::/48"], groups: [site-b, site-a, public], min_active: 2, max_active: 2 }
`;

async function run(yaml: string, alive: string[], json = false) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-check-'));
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, `${yaml}state_file: ${path.join(dir, 'state.json')}\n`);
  const printed: string[] = [];
  const io: Io = { out: (t) => void printed.push(t), color: false };
  const argv: Common & { json: boolean } = { config, 'log-format': 'text', 'log-level': 'error', json };
  const exit = await check(argv, io, cannedProber(new Set(alive)));
  return { exit, text: printed.join('') };
}

describe('check with client pools', () => {
  it("prints each pool's set after the prefixes: the default pool's first, then the pools in order", async () => {
    const { exit, text } = await run(PREFIXES + POOLS, [A, B, C]);
    expect(exit).toBe(EXIT.ok);
    expect(text).toMatch(/3 of 3 prefixes healthy \(round took 1.0 ms\)\n\n/);
    expect(text.split('\n\n')[1]).toBe(
      "each pool's set, decided from this round alone:\n" +
        'POOL     SET\n' +
        `default  ${A}\n` +
        `site-a   ${A}\n` +
        `site-b   ${A}, ${B}\n`, // site B's and the next group's (min_active 2), in config order
    );
  });

  it('says when a set is the fail-safe', async () => {
    const { exit, text } = await run(PREFIXES + POOLS, []);
    expect(exit).toBe(EXIT.none);
    expect(text).toContain(`default  ${A} (fail-safe)\n`);
    expect(text).toContain(`site-b   ${A}, ${B} (fail-safe)\n`);
  });

  it('--json lists each pool with its set', async () => {
    const { text } = await run(PREFIXES + POOLS, [B, C], true);
    expect(JSON.parse(text)).toMatchObject({
      pools: [
        { name: 'default', active: [B], failsafe: false },
        { name: 'site-a', active: [B], failsafe: false },
        { name: 'site-b', active: [B, C], failsafe: false }, // A is down: the public one is next
      ],
    });
  });

  it('without pools: no sets in the text, no `pools` in the JSON', async () => {
    const { text } = await run(PREFIXES, [A, B, C]);
    expect(text).toMatch(
      /^PREFIX +NAME +STATE +LATENCY +LOSS +TARGETS\n(.*\n){3}3 of 3 prefixes healthy \(round took 1.0 ms\)\n$/,
    );
    const json = await run(PREFIXES, [A, B, C], true);
    expect(Object.keys(JSON.parse(json.text) as object)).toEqual(['round_ms', 'target_faults', 'prefixes']);
  });
});
