import { describe, expect, it } from 'vitest';
import { WakeQueue } from '../../../src/daemon/wake-queue.js';

const elapsed = async (p: Promise<void>) => {
  const t = performance.now();
  await p;
  return performance.now() - t;
};

describe('WakeQueue', () => {
  it('wait() ends at its time when nothing is posted', async () => {
    expect(await elapsed(new WakeQueue().wait(30))).toBeGreaterThanOrEqual(25);
  });

  it('a reload, a maintenance change or a stop ends the wait at once', async () => {
    for (const event of ['reload', 'maintenance', 'stop'] as const) {
      const q = new WakeQueue();
      const waiting = q.wait(60_000);
      q.post(event);
      expect(await elapsed(waiting)).toBeLessThan(1000);
      expect(q.take()).toEqual(new Set([event]));
    }
  });

  it('an event posted during the round makes the next wait return at once', async () => {
    const q = new WakeQueue();
    q.post('reload');
    expect(await elapsed(q.wait(60_000))).toBeLessThan(1000);
  });

  it('a new discovered set waits for the round that is due anyway', async () => {
    const q = new WakeQueue();
    const waiting = q.wait(40);
    q.post('discovered');
    expect(await elapsed(waiting)).toBeGreaterThanOrEqual(35);
    expect(q.has('discovered')).toBe(true);
  });

  it('take() hands over every event once, each kind once', () => {
    const q = new WakeQueue();
    q.post('reload');
    q.post('reload');
    q.post('discovered');
    expect(q.take()).toEqual(new Set(['reload', 'discovered']));
    expect(q.take()).toEqual(new Set());
  });
});
