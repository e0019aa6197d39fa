import { execa } from 'execa';
import type { ProbeResult } from './types.js';

/**
 * ICMPv6 echo through the NAT64, for many addresses in one fping run (Node cannot send ICMPv6
 * without a native module). fping needs CAP_NET_RAW (or unprivileged ping sockets).
 * Returns a result per address; if fping itself fails, every address fails with its message.
 */
export async function probeIcmp(
  addresses: string[],
  timeoutMs: number,
  fping = 'fping',
): Promise<Map<string, ProbeResult>> {
  const results = new Map<string, ProbeResult>();
  if (addresses.length === 0) return results;
  const unique = [...new Set(addresses)];
  const start = process.hrtime.bigint();
  const run = await execa(
    fping,
    ['-6', '-C', '1', '-q', '-r', '0', '-t', String(Math.max(1, Math.round(timeoutMs))), ...unique],
    {
      reject: false,
      timeout: timeoutMs + 5000,
      stdin: 'ignore',
    },
  );
  const took = Number(process.hrtime.bigint() - start) / 1e6;
  // `fping -C` prints "addr : 0.05" (or "addr : -") per target on stderr; exit 1 means some were unreachable.
  for (const line of run.stderr.split('\n')) {
    const m = /^\s*(\S+)\s*:\s*(\S+)\s*$/.exec(line);
    if (!m) continue;
    const [, addr, value] = m;
    const ms = Number(value);
    results.set(
      addr!,
      value === '-' || !Number.isFinite(ms)
        ? { ok: false, latency_ms: timeoutMs, error: 'no echo reply' }
        : { ok: true, latency_ms: ms },
    );
  }
  const failure = run.failed && results.size === 0 ? fpingFailure(run, fping) : undefined;
  for (const addr of unique) {
    if (!results.has(addr))
      results.set(addr, { ok: false, latency_ms: took, error: failure ?? 'no result from fping' });
  }
  return results;
}

function fpingFailure(
  run: { code?: string; exitCode?: number; stderr: string; timedOut?: boolean },
  fping: string,
): string {
  if (run.code === 'ENOENT') return `${fping} is not installed (ICMP probes need it)`;
  if (run.timedOut) return `${fping} timed out`;
  const text = run.stderr.trim().split('\n')[0] ?? '';
  return `${fping} failed (exit ${run.exitCode ?? '?'}): ${text}`;
}
