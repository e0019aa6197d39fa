// One probe round with the real probers, on loopback only: the prefix ::/96 embeds 0.0.0.1 as ::1.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrefix } from '../../../src/lib/prefix.js';
import type { PrefixConfig, ProbeConfig } from '../../../src/config/load.js';
import { runRound } from '../../../src/probe/round.js';

const LOOP = parsePrefix('::/96');
const prefix: PrefixConfig = {
  prefix: LOOP,
  id: LOOP.text,
  name: 'loopback',
  group: null,
  groupRank: 0,
  order: 0,
  origin: 'test',
};

let server: net.Server;
let port: number;
beforeAll(async () => {
  server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '::1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('probe round', () => {
  it('counts a probe that throws as that probe failure, and the round goes on', async () => {
    const probes: ProbeConfig[] = [
      { type: 'tcp', address: '0.0.0.1', port, id: 'tcp ok' },
      // Node's http.request throws synchronously on a path with a space (the schema refuses it; this
      // is the second line of defence): it must not take the round down.
      { type: 'http', address: '0.0.0.1', port, path: '/a b', expect_status: 200, id: 'http bad path' },
      {
        type: 'http',
        address: '0.0.0.1',
        port,
        path: '/',
        host: 'x\r\nInjected: 1',
        expect_status: 200,
        id: 'http bad host',
      },
    ];
    const round = await runRound([prefix], probes, { timeoutMs: 2000 });
    const byId = new Map(round.outcomes.map((o) => [o.probe, o]));
    expect(byId.get('tcp ok')).toMatchObject({ ok: true, address: '::1' });
    expect(byId.get('http bad path')).toMatchObject({ ok: false, error: 'probe failed: ERR_UNESCAPED_CHARACTERS' });
    expect(byId.get('http bad host')).toMatchObject({ ok: false, error: 'probe failed: ERR_INVALID_CHAR' });
  });
});
