import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { decide } from '../../../src/daemon/step.js';
import type { PrefixHealth } from '../../../src/health/state.js';
import { EMPTY_SELECTION, type SelectionState } from '../../../src/select/select.js';

const L = '2001:db8:64::/96';
const X = '2001:db8:64:3::/96';
const Y = '2001:db8:64:5::/96';

describe('decide', () => {
  it('property counterexample: a local prefix that comes up after `rise` joins the set of ungrouped ones', () => {
    // step.property.test.ts, shrunk on the old selection (seed 20261204)
    const config = parseConfig(
      `prefixes: [{ prefix: "${L}", group: local }, "${X}", "${Y}"]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { rise: 3, fall: 1 }
select: { min_active: 2, max_active: 2, drain: 60, groups: [local] }
`,
      'c.yaml',
      '/tmp',
    );
    let health: ReadonlyMap<string, PrefixHealth> = new Map();
    let selection: SelectionState = EMPTY_SELECTION;
    const round = (alive: string[], now: number) => {
      const outcomes = [L, X, Y].map((prefix) => ({
        prefix,
        probe: 'tcp 192.0.2.10:80',
        address: '::',
        ok: alive.includes(prefix),
        latency_ms: 2,
      }));
      const d = decide(config, health, selection, outcomes, now);
      ({ health, selection } = d);
      return d;
    };
    expect(round([X, Y], 1000).selection.active).toEqual([X, Y]);
    expect(round([L, X, Y], 2000).selection.active).toEqual([X, Y]); // L recovering: 1 of 3 good rounds
    expect(round([L, X, Y], 3000).selection.active).toEqual([X, Y]);
    const d = round([L, X, Y], 4000);
    expect(d.transitions).toEqual([expect.objectContaining({ id: L, to: 'up' })]);
    expect(d.selection.active).toEqual([L, X]);
    expect(d.rendered.match(/^dns64 \S+/gm)).toEqual([`dns64 ${L}`, `dns64 ${X}`, `dns64 ${Y}`]); // Y drains
  });
});
