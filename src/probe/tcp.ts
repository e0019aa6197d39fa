import net from 'node:net';
import { elapsedMs, errorText, type ProbeResult } from './types.js';

/** Success is a completed TCP handshake with the target, through the NAT64. */
export function probeTcp(address: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const socket = net.connect({ host: address, port, family: 6 });
    const finish = (ok: boolean, error?: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, latency_ms: elapsedMs(start), ...(error ? { error } : {}) });
    };
    // A dead gateway usually drops silently: only our own timer ends the attempt.
    const timer = setTimeout(() => finish(false, 'timeout'), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', (err) => finish(false, errorText(err)));
  });
}
