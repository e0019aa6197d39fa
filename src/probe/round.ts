// One probe round: every configured target through every prefix, concurrently, each with its own timeout.
import { synthesize } from '../lib/prefix.js';
import type { PrefixConfig, ProbeConfig } from '../config/load.js';
import { probeDns } from './dns.js';
import { probeHttp } from './http.js';
import { probeIcmp } from './icmp.js';
import { probeTcp } from './tcp.js';
import { elapsedMs, errorText, type ProbeOutcome, type ProbeResult } from './types.js';

export interface RoundOptions {
  timeoutMs: number;
  /** sockets open at once; keeps a round of many prefixes from exhausting file descriptors */
  concurrency?: number;
  fping?: string;
}

export interface RoundResult {
  started_at: number;
  duration_ms: number;
  outcomes: ProbeOutcome[];
}

export async function runRound(
  prefixes: PrefixConfig[],
  probes: ProbeConfig[],
  opts: RoundOptions,
): Promise<RoundResult> {
  const started_at = Date.now();
  const start = process.hrtime.bigint();
  const tasks = prefixes.flatMap((p) =>
    probes.map((probe) => ({ prefix: p.id, probe, address: synthesize(p.prefix, probe.address) })),
  );
  const icmp = tasks.filter((t) => t.probe.type === 'icmp');
  const socketTasks = tasks.filter((t) => t.probe.type !== 'icmp');

  const icmpResults = probeIcmp(
    icmp.map((t) => t.address),
    opts.timeoutMs,
    opts.fping,
  ).catch((err: unknown) => {
    const failed = { ok: false, latency_ms: 0, error: `probe failed: ${errorText(err)}` };
    return new Map(icmp.map((t) => [t.address, failed]));
  });
  const socketResults = mapLimited(socketTasks, opts.concurrency ?? 256, (t) =>
    runSafely(t.probe, t.address, opts.timeoutMs),
  );
  const [icmpByAddress, results] = await Promise.all([icmpResults, socketResults]);

  const outcomes: ProbeOutcome[] = [
    ...socketTasks.map((t, i) => ({ prefix: t.prefix, probe: t.probe.id, address: t.address, ...results[i]! })),
    ...icmp.map((t) => ({ prefix: t.prefix, probe: t.probe.id, address: t.address, ...icmpByAddress.get(t.address)! })),
  ];
  return { started_at, duration_ms: Number(process.hrtime.bigint() - start) / 1e6, outcomes };
}

/** A probe that throws (synchronously or not) is that probe's failure, never the round's. */
async function runSafely(probe: ProbeConfig, address: string, timeoutMs: number): Promise<ProbeResult> {
  const start = process.hrtime.bigint();
  try {
    return await runOne(probe, address, timeoutMs);
  } catch (err) {
    return { ok: false, latency_ms: elapsedMs(start), error: `probe failed: ${errorText(err)}` };
  }
}

function runOne(probe: ProbeConfig, address: string, timeoutMs: number): Promise<ProbeResult> {
  switch (probe.type) {
    case 'tcp':
      return probeTcp(address, probe.port, timeoutMs);
    case 'http':
      return probeHttp(address, probe, timeoutMs);
    case 'dns':
      return probeDns(address, probe, timeoutMs);
    case 'icmp':
      throw new Error('icmp probes run batched through fping');
  }
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
