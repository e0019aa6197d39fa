import { describe, expect, it, vi } from 'vitest';
import type { DiscoverSource } from '../../../src/config/load.js';
import type { Discovery } from '../../../src/discover/discover.js';
import { DiscoveryScheduler } from '../../../src/daemon/discovery-scheduler.js';
import { createLogger } from '../../../src/lib/log.js';

const source = { id: '[2001:db8::53]:53' } as DiscoverSource;

function fakeDiscovery(results: Array<boolean | Error>) {
  const gates: Array<() => void> = [];
  const discovery = {
    refresh: vi.fn(async () => {
      await new Promise<void>((r) => gates.push(r));
      const r = results.shift();
      if (r instanceof Error) throw r;
      return r ?? false;
    }),
  };
  return { discovery: discovery as unknown as Discovery, refresh: discovery.refresh, release: () => gates.shift()?.() };
}

describe('DiscoveryScheduler', () => {
  it('one refresh at a time in the background; a changed set is reported', async () => {
    const { discovery, refresh, release } = fakeDiscovery([true, false]);
    const changed = vi.fn();
    const s = new DiscoveryScheduler(discovery, createLogger({ level: 'error' }), changed);
    s.kick([source]);
    s.kick([source]); // still running: not asked again
    expect(refresh).toHaveBeenCalledTimes(1);
    release();
    await s.idle();
    expect(changed).toHaveBeenCalledTimes(1);
    s.kick([source]);
    release();
    await s.idle();
    expect(refresh).toHaveBeenCalledTimes(2);
    expect(changed).toHaveBeenCalledTimes(1); // unchanged: nothing reported
  });

  it('no sources: nothing asked', () => {
    const { discovery, refresh } = fakeDiscovery([]);
    new DiscoveryScheduler(discovery, createLogger({ level: 'error' }), vi.fn()).kick([]);
    expect(refresh).not.toHaveBeenCalled();
  });

  it('a failing refresh is logged and the next one runs', async () => {
    const { discovery, refresh, release } = fakeDiscovery([new Error('boom')]);
    const lines: string[] = [];
    const s = new DiscoveryScheduler(discovery, createLogger({ level: 'error', write: (l) => lines.push(l) }), vi.fn());
    s.kick([source]);
    release();
    await s.idle();
    expect(lines).toContainEqual(expect.stringMatching(/^ERROR discovery failed/));
    s.kick([source]);
    expect(refresh).toHaveBeenCalledTimes(2);
    release();
    await s.idle();
  });
});
