import http from 'node:http';
import { elapsedMs, errorText, type ProbeResult } from './types.js';

export interface HttpProbeSpec {
  port: number;
  path: string;
  host?: string;
  expect_status: number;
  /** the IPv4 target, used as Host header unless host is set */
  address: string;
}

/** Success is a response with the expected status; latency is time to the response headers. */
export function probeHttp(address: string, spec: HttpProbeSpec, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let done = false;
    const finish = (ok: boolean, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok, latency_ms: elapsedMs(start), ...(error ? { error } : {}) });
    };
    const req = http.request({
      host: address,
      family: 6,
      port: spec.port,
      path: spec.path,
      method: 'GET',
      agent: false,
      headers: { Host: spec.host ?? spec.address, 'User-Agent': 'nat64-health', Connection: 'close' },
    });
    const timer = setTimeout(() => finish(false, 'timeout'), timeoutMs);
    req.once('response', (res) => {
      res.resume();
      if (res.statusCode === spec.expect_status) finish(true);
      else finish(false, `HTTP ${res.statusCode}, expected ${spec.expect_status}`);
    });
    req.once('error', (err) => finish(false, errorText(err)));
    req.end();
  });
}
