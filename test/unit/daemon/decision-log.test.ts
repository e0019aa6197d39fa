import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/core/step.js';
import { DecisionLog } from '../../../src/daemon/decision-log.js';
import type { HookEvent, HookKind } from '../../../src/daemon/notify.js';
import { createLogger } from '../../../src/lib/log.js';
import { A, B } from '../../support/prefixes.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const config = { prefixes: [{ id: A, name: 'local-a' }] } as Parameters<DecisionLog['record']>[1];

const decision = (over: Partial<Decision> = {}) =>
  ({
    verdict: { targetFaults: [] },
    transitions: [],
    changes: [],
    selection: { active: [A], draining: {}, challengers: {}, failsafe: false },
    ...over,
  }) as unknown as Decision;

function setup() {
  const lines: string[] = [];
  const fired: Array<[HookKind, HookEvent]> = [];
  const log = new DecisionLog(createLogger({ level: 'info', write: (l) => lines.push(l) }), {
    fire: (kind, event) => fired.push([kind, event]),
  });
  return { log, lines, fired };
}

describe('DecisionLog', () => {
  it('logs a transition and fires on_state with its document', () => {
    const { log, lines, fired } = setup();
    log.record(
      decision({ transitions: [{ id: A, from: 'up', to: 'down', reason: '0/2 answered' }] as Decision['transitions'] }),
      config,
      T0,
      new Map(),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^WARN  prefix ${A} is down`)));
    expect(fired).toEqual([
      [
        'on_state',
        expect.objectContaining({
          document: expect.objectContaining({ prefix: A, name: 'local-a', from: 'up', to: 'down' }) as unknown,
          env: { NAT64_HEALTH_PREFIX: A, NAT64_HEALTH_STATE: 'down', NAT64_HEALTH_FROM: 'up' },
        }),
      ],
    ]);
  });

  it('says the fail-safe at once, then at most once a minute unless the set changes', () => {
    const { log, lines } = setup();
    const failsafe = decision({ selection: { active: [A], draining: {}, challengers: {}, failsafe: true } });
    const said = () => lines.filter((l) => l.startsWith('ERROR FAIL-SAFE')).length;
    log.record(failsafe, config, T0, new Map());
    log.record(failsafe, config, T0 + 30_000, new Map());
    expect(said()).toBe(1);
    log.record(failsafe, config, T0 + 60_000, new Map());
    expect(said()).toBe(2);
    log.record(decision(), config, T0 + 61_000, new Map());
    log.record(failsafe, config, T0 + 62_000, new Map());
    expect(said()).toBe(3); // it ended in between: said again at once
  });

  it('every prefix in maintenance is a warning, not the fail-safe', () => {
    const { log, lines } = setup();
    const held = new Map([[A, { reason: 'upgrade', since: T0, until: null }]]);
    log.record(
      decision({ selection: { active: [], draining: {}, challengers: {}, failsafe: false } }),
      config,
      T0,
      held,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^WARN {2}ALL IN MAINTENANCE/));
    expect(lines.filter((l) => l.includes('FAIL-SAFE'))).toEqual([]);
  });

  it("a client pool's selection change names its pool in the line and its fields; the default pool's as ever", () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = new DecisionLog(
      createLogger({ format: 'json', level: 'info', write: (l) => lines.push(JSON.parse(l) as never) }),
      {
        fire: () => {},
      },
    );
    const changes = [
      { id: A, change: 'deactivated', reason: 'down' },
      { id: A, change: 'deactivated', reason: 'down', pool: 'site-a' },
      { id: B, change: 'activated', reason: 'up', pool: 'site-a' },
    ] as Decision['changes'];
    log.record(decision({ changes }), config, T0, new Map());
    const said = lines
      .filter((l) => String(l.msg).startsWith('prefix '))
      .map(({ msg, pool, reason }) => ({ msg, pool, reason }));
    expect(said).toEqual([
      { msg: `prefix ${A} deactivated`, pool: undefined, reason: 'down' },
      { msg: `prefix ${A} deactivated in pool site-a`, pool: 'site-a', reason: 'down' },
      { msg: `prefix ${B} activated in pool site-a`, pool: 'site-a', reason: 'up' },
    ]);
    expect(lines.find((l) => l.msg === `prefix ${A} deactivated`)).not.toHaveProperty('pool');
  });
});
