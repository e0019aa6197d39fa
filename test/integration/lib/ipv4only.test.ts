/**
 * The RFC 7050 query against a real named that serves ipv4only.arpa with its own dns64 prefixes
 * (a /96 and a /64), and against tiny UDP servers in the test that answer wrongly or not at all.
 */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNamed, type NamedInstance } from '../../support/named.js';
import { askIpv4only } from '../../../src/lib/ipv4only.js';

const P96 = '2001:db8:64:e::/96';
const P64 = '2001:db8:65:1::/64';
let named: NamedInstance;

beforeAll(async () => {
  named = await startNamed({
    listen: '127.0.0.1',
    mode: 'include',
    dns64: `dns64 ${P96} { clients { any; }; };\ndns64 ${P64} { clients { any; }; };\n`,
  });
});
afterAll(async () => named?.stop());

/** A UDP server on loopback that answers every query with reply(query), or never when it returns null. */
async function fakeServer(reply: (query: Buffer) => Buffer | null) {
  const socket = dgram.createSocket('udp4');
  let queries = 0;
  socket.on('message', (msg, from) => {
    queries++;
    const out = reply(msg);
    if (out) socket.send(out, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return {
    port: socket.address().port,
    queries: () => queries,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

const answerTo = (query: Buffer, over: Partial<dnsPacket.Packet> = {}) => {
  const q = dnsPacket.decode(query);
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: q.questions,
    answers: [],
    ...over,
  });
};

async function failure(port: number): Promise<string> {
  try {
    await askIpv4only({ server: '127.0.0.1', port, timeout: 200 });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the query to fail');
}

describe('askIpv4only', () => {
  it("named's own dns64 set: the /96 and the /64, with the answer's TTL", async () => {
    const answer = await askIpv4only({ server: named.listen, port: named.port, timeout: 1000 });
    expect(answer.prefixes).toEqual([P96, P64].sort());
    expect(answer.ttl).toBeGreaterThan(0);
    // the TTL is named's own, as dig sees it
    const ttls = (await named.dig(['+noall', '+answer', 'AAAA', 'ipv4only.arpa']))
      .split('\n')
      .filter((l) => l.includes('AAAA'))
      .map((l) => Number(l.trim().split(/\s+/)[1]));
    expect(answer.ttl).toBe(Math.min(...ttls));
  });

  it('garbage: ignored, and the error says what was sent', async () => {
    const s = await fakeServer(() => Buffer.from('hello'));
    try {
      expect(await failure(s.port)).toMatch(
        /^no usable answer \(it sent 5 bytes that are not a DNS message\) from 127\.0\.0\.1:\d+ .*3 tries/,
      );
      expect(s.queries()).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('a response with another id, or to another question: not the answer', async () => {
    const wrongId = await fakeServer((q) => {
      const id = dnsPacket.decode(q).id!;
      return answerTo(q, { id: (id + 1) % 65536 });
    });
    const wrongQuestion = await fakeServer((q) => answerTo(q, { questions: [{ type: 'A', name: 'example.test' }] }));
    try {
      expect(await failure(wrongId.port)).toMatch(/no usable answer \(it sent a response with another query id\)/);
      expect(await failure(wrongQuestion.port)).toMatch(/it sent a response to another question \(example\.test A\)/);
    } finally {
      await wrongId.close();
      await wrongQuestion.close();
    }
  });

  it('a server that does not answer, and one that refuses', async () => {
    const silent = await fakeServer(() => null);
    const refusing = await fakeServer((q) => answerTo(q, { flags: dnsPacket.RECURSION_AVAILABLE | 5 }));
    try {
      expect(await failure(silent.port)).toMatch(
        /^no answer from 127\.0\.0\.1:\d+ for ipv4only\.arpa AAAA within 200 ms/,
      );
      expect(await failure(refusing.port)).toMatch(/answered ipv4only\.arpa AAAA with REFUSED$/);
    } finally {
      await silent.close();
      await refusing.close();
    }
  });

  it('an answer without a well-known address: no prefixes', async () => {
    const s = await fakeServer((q) =>
      answerTo(q, { answers: [{ type: 'AAAA', name: 'ipv4only.arpa', ttl: 60, data: '2001:db8::1' }] }),
    );
    try {
      expect(await askIpv4only({ server: '127.0.0.1', port: s.port, timeout: 500 })).toEqual({
        prefixes: [],
        ttl: null,
      });
    } finally {
      await s.close();
    }
  });
});
