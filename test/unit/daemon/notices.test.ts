import { describe, expect, it } from 'vitest';
import { NO_TARGET_FAULTS, targetFaultNotice, type TargetFaultMemo } from '../../../src/daemon/notices.js';

/** Feeds one round's blamed targets per entry, 5 s apart, and returns what would be logged when. */
function replay(rounds: string[][], stepMs = 5000) {
  let memo: TargetFaultMemo = NO_TARGET_FAULTS;
  const logged: Array<{ at: number; level: string; msg: string; fields: unknown }> = [];
  rounds.forEach((faults, i) => {
    const r = targetFaultNotice(memo, faults, i * stepMs);
    memo = r.memo;
    if (r.notice) logged.push({ at: i * stepMs, ...r.notice });
  });
  return logged;
}

describe('target fault notices', () => {
  it('a target retired for an hour: one warning, then a reminder every 5 minutes (issue 9)', () => {
    const logged = replay(Array.from({ length: 721 }, () => ['http 192.0.2.10:80/'])); // 0 .. 3600 s
    expect(logged.map((l) => l.at / 1000)).toEqual([
      0, 300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 3000, 3300, 3600,
    ]);
    expect(logged[0]).toMatchObject({
      level: 'warn',
      fields: { targets: ['http 192.0.2.10:80/'], new: ['http 192.0.2.10:80/'] },
    });
    expect(logged[1]!.msg).toMatch(/still fails/);
    expect(logged[1]!.fields).toEqual({ targets: ['http 192.0.2.10:80/'], since: '1970-01-01T00:00:00.000Z' });
  });

  it('logs every change at once: a new target, one answering again, all clear; nothing while all is well', () => {
    const logged = replay([[], [], ['t1'], ['t1'], ['t1', 't2'], ['t2'], ['t2'], [], []]);
    expect(logged.map((l) => [l.at / 5000, l.level, l.fields])).toEqual([
      [2, 'warn', { targets: ['t1'], new: ['t1'] }],
      [4, 'warn', { targets: ['t1', 't2'], new: ['t2'] }],
      [5, 'warn', { targets: ['t2'], new: [], answering_again: ['t1'] }],
      [7, 'info', { targets: ['t2'] }],
    ]);
  });

  it('the order of the targets is no change', () => {
    expect(
      replay([
        ['b', 'a'],
        ['a', 'b'],
      ]),
    ).toHaveLength(1);
  });
});
