// The metrics/status HTTP server on host loopback: routes, methods, bad requests, bind errors.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Observer } from '../../../src/observe/observer.js';
import { apply, decision, outcome, A, sample, silentLogger, snapshot } from '../../support/observe-fixtures.js';
import { historyEntry } from '../../support/history-fixtures.js';
import type { ApplyHistoryView } from '../../../src/apply/history-store.js';

const observers: Observer[] = [];
afterEach(async () => {
  await Promise.all(observers.splice(0).map((o) => o.close()));
});

async function start(
  listen = '127.0.0.1:0',
  lines: string[] = [],
): Promise<{ o: Observer; base: string; port: number; host: string }> {
  const o = new Observer({ listen, log: silentLogger(lines), allowPortZero: true });
  observers.push(o);
  const addr = await o.start();
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { o, base: `http://${host}:${addr.port}`, port: addr.port, host: addr.address };
}

/** Sends raw bytes and returns everything the server answered before closing (or 2 s). */
function raw(host: string, port: number, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, 2000);
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e),
    );
    socket.write(data);
  });
}

describe('observer HTTP server', () => {
  it('serves /metrics in the Prometheus text format, with the daemon data and process metrics', async () => {
    const { o, base } = await start();
    o.hooks.snapshot!(snapshot(), decision({ outcomes: [outcome(A, 'tcp 192.0.2.10:80', true, 4)] }));
    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(sample(text, 'nat64_health_prefix_up', { prefix: A })).toBe(1);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    const again = await (await fetch(`${base}/metrics`)).text();
    expect(sample(again, 'nat64_health_http_requests_total', { handler: '/metrics', code: '200' })).toBe(1);
  });

  it('serves the status page and /status.json (503 until the first round)', async () => {
    const { o, base } = await start();
    const early = await fetch(`${base}/status.json`);
    expect(early.status).toBe(503);
    expect(await early.json()).toEqual({ error: 'no probe round has completed yet' });
    expect(await (await fetch(`${base}/`)).text()).toContain('Waiting for the first probe round');

    const s = snapshot();
    o.hooks.snapshot!(s, decision());
    const json = await fetch(`${base}/status.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await json.text()).toBe(JSON.stringify(s, null, 2) + '\n'); // byte for byte what the state file holds
    const page = await fetch(`${base}/?refresh=1`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain(`data-prefix="${A}"`);
  });

  it('serves the apply history: /history.json and one page per entry under /history/; 404 for the rest', async () => {
    const { o, base } = await start();
    expect(await (await fetch(`${base}/history.json`)).json()).toEqual({ entries: [] }); // no history (yet)
    const e = historyEntry({ id: 3, target: 'dns64-2', at: apply().at });
    const view: ApplyHistoryView = {
      all: () => [e],
      find: (t, id) => (t === e.target && id === e.id ? e : undefined),
      entryFor: (t, at) => (t === e.target && at === e.at ? e : undefined),
    };
    o.useApplyHistory(view);
    o.hooks.snapshot!(snapshot({ applies: [apply({ target: 'dns64-2' }), apply({ target: 'local' })] }), decision());
    expect(await (await fetch(`${base}/history.json`)).json()).toEqual({ entries: [e] });
    const page = await fetch(`${base}/history/dns64-2/3`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<h1>dns64-2: apply #3</h1>');
    for (const path of ['/history/dns64-2/4', '/history/local/3', '/history/dns64-2', '/history/', '/history/x/1/2']) {
      const r = await fetch(`${base}${path}`);
      expect(r.status, path).toBe(404);
      expect(await r.text()).toContain('no such apply');
    }
    // the status page links the apply that has an entry, and only that one
    const status = await (await fetch(`${base}/`)).text();
    expect(status.match(/<a class="diff" href="[^"]*">[^<]*<\/a>/g)).toEqual([
      '<a class="diff" href="/history/dns64-2/3">#3</a>',
    ]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(sample(metrics, 'nat64_health_http_requests_total', { handler: '/history/', code: '404' })).toBe(5);
  });

  it('answers HEAD without a body', async () => {
    const { base } = await start();
    const r = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await r.text()).toBe('');
  });

  it('404 for unknown paths, 405 with Allow for other methods', async () => {
    const { base } = await start();
    for (const path of ['/nope', '/metrics/', '/status.json.bak', '/../etc/passwd', '/__proto__', '/constructor']) {
      const r = await fetch(`${base}${path}`);
      expect(r.status, path).toBe(404);
      await r.text();
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await fetch(`${base}/metrics`, { method, body: method === 'POST' ? 'x'.repeat(100_000) : undefined });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
      await r.text();
    }
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('huge headers get 431, garbage gets 400, and the server keeps serving', async () => {
    const lines: string[] = [];
    const { o, base, port, host } = await start('127.0.0.1:0', lines);
    const big = await raw(host, port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    const many = await raw(
      host,
      port,
      `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
    );
    expect(many).toMatch(/^HTTP\/1\.1 431 /);
    expect(await raw(host, port, 'BLAH\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    const tlsHello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00]);
    expect(await raw(host, port, tlsHello)).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(host, port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 400 /,
    );
    expect(await raw(host, port, 'GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 (400|404) /);
    // a client that connects and goes away mid-request
    await new Promise<void>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.write('GET /metrics HTTP/1.1\r\nHo');
        s.destroy();
        resolve();
      });
    });
    o.hooks.snapshot!(snapshot(), decision());
    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(sample(text, 'nat64_health_http_requests_total', { handler: 'invalid', code: '431' })).toBe(2);
    expect(
      sample(text, 'nat64_health_http_requests_total', { handler: 'invalid', code: '400' }),
    ).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it('binds only the configured address', async () => {
    const { port } = await start('127.0.0.1:0');
    const other = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.2', port });
      s.on('connect', () => (s.destroy(), resolve('connected')));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(other).toBe('ECONNREFUSED');
  });

  it('works on [::1]', async () => {
    const { base } = await start('[::1]:0');
    expect(base).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('a taken port is a clear startup error', async () => {
    const { port } = await start('127.0.0.1:0');
    const second = new Observer({ listen: `127.0.0.1:${port}`, log: silentLogger() });
    await expect(second.start()).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port} (http.listen): address already in use`,
    );
    await second.close();
  });

  it('a snapshot hook never throws into the daemon', () => {
    const lines: string[] = [];
    const o = new Observer({ listen: '127.0.0.1:0', log: silentLogger(lines), allowPortZero: true });
    expect(() => o.hooks.snapshot!({ broken: true } as never, null)).not.toThrow();
    expect(lines.some((l) => l.startsWith('error observer'))).toBe(true);
  });
});

describe('HttpServer timeouts', () => {
  it('a client that never finishes its request head gets 408 and is dropped', async () => {
    const { HttpServer } = await import('../../../src/observe/http-server.js');
    const server = new HttpServer({
      listen: { host: '127.0.0.1', port: 0 },
      routes: { '/': () => ({ status: 200, contentType: 'text/plain', body: 'ok' }) },
      log: silentLogger(),
      headersTimeoutMs: 300,
    });
    const { port } = await server.listen();
    try {
      const t0 = Date.now();
      const got = await raw('127.0.0.1', port, 'GET / HTTP/1.1\r\nHost: x\r\n');
      expect(got).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - t0).toBeLessThan(1900);
    } finally {
      await server.close();
    }
  });
});
