// The one RFC 7050 query: AAAA ipv4only.arpa over UDP to a DNS64 resolver, and the NAT64 prefixes
// recovered from the well-known addresses 192.0.0.170/171 in its answer, for every RFC 6052 length.
// Verification (is BIND serving the decided set?) and discovery (which prefixes does the ISP's
// resolver use?) both ask it.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { prefixEmbedding } from './prefix.js';

export interface Ipv4onlyQuery {
  /** an address, or a host name (looked up first) */
  server: string;
  port: number;
  /** source address of the query, for a `clients` ACL that must admit it */
  source?: string;
  /** ms per try */
  timeout: number;
}

export interface Ipv4onlyAnswer {
  /** canonical prefix texts, sorted; empty when no answer embeds a well-known address */
  prefixes: string[];
  /** the smallest TTL of the AAAA records the prefixes came from, in seconds; null without any */
  ttl: number | null;
}

export const WELL_KNOWN = ['192.0.0.170', '192.0.0.171'];
const ATTEMPTS = 3;

/** A DNS error code in the answer (REFUSED, SERVFAIL, ...): an answer, but no usable one. */
export class RcodeError extends Error {
  constructor(
    readonly where: string,
    readonly rcode: string,
  ) {
    super(`${where} answered ipv4only.arpa AAAA with ${rcode}`);
  }
}

/** Asks up to three times (UDP: a lost packet or a busy server is not an answer). */
export async function askIpv4only(q: Ipv4onlyQuery): Promise<Ipv4onlyAnswer> {
  const server = net.isIP(q.server) ? q.server : (await lookup(q.server)).address;
  for (let attempt = 1; ; attempt++) {
    try {
      return await askOnce({ ...q, server });
    } catch (err) {
      if (!(err instanceof NoAnswer) || attempt === ATTEMPTS) throw err;
    }
  }
}

/** Nothing usable came back within the timeout of any try. */
export class NoAnswer extends Error {}

/** The prefixes under which the answer's AAAA records embed a well-known address, and their TTL. */
export function prefixesOfAnswer(answers: readonly dnsPacket.Answer[]): Ipv4onlyAnswer {
  const found = new Set<string>();
  let ttl: number | null = null;
  for (const a of answers) {
    if (a.type !== 'AAAA' || typeof a.data !== 'string') continue;
    for (const v4 of WELL_KNOWN) {
      const p = prefixEmbedding(a.data, v4);
      if (!p) continue;
      found.add(p.text);
      if (typeof a.ttl === 'number') ttl = Math.min(ttl ?? a.ttl, a.ttl);
    }
  }
  return { prefixes: [...found].sort(), ttl };
}

function askOnce(q: Ipv4onlyQuery) {
  return new Promise<Ipv4onlyAnswer>((resolve, reject) => {
    const id = randomInt(1, 65536);
    const socket = dgram.createSocket(net.isIPv4(q.server) ? 'udp4' : 'udp6');
    const where = `${q.server.includes(':') ? `[${q.server}]` : q.server}:${q.port}`;
    // A packet that is not the answer is ignored (the real one may still come), but remembered for the error.
    let ignored: string | null = null;
    let done = false;
    const finish = (err: Error | null, answer?: Ipv4onlyAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => {
      const what = ignored ? `no usable answer (it sent ${ignored})` : 'no answer';
      finish(new NoAnswer(`${what} from ${where} for ipv4only.arpa AAAA within ${q.timeout} ms (${ATTEMPTS} tries)`));
    }, q.timeout);
    socket.on('error', (err) => finish(new Error(`asking ${where} for ipv4only.arpa AAAA: ${err.message}`)));
    socket.on('message', (msg) => {
      let reply: dnsPacket.DecodedPacket;
      try {
        reply = dnsPacket.decode(msg);
      } catch {
        ignored = `${msg.length} bytes that are not a DNS message`;
        return;
      }
      const question = reply.questions?.[0];
      if (reply.type !== 'response') ignored = 'a DNS query, not a response';
      else if (reply.id !== id) ignored = 'a response with another query id';
      else if (question?.type !== 'AAAA' || question.name.toLowerCase() !== 'ipv4only.arpa')
        ignored = `a response to another question (${question ? `${question.name} ${question.type}` : 'none'})`;
      else {
        const rcode = (reply as { rcode?: string }).rcode; // decoded, but missing from @types/dns-packet
        if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') return finish(new RcodeError(where, rcode ?? '?'));
        return finish(null, prefixesOfAnswer(reply.answers ?? []));
      }
    });
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'AAAA', name: 'ipv4only.arpa' }],
    });
    const send = () =>
      // connected: an ICMP port unreachable (server stopped) is an error at once, not a timeout
      socket.connect(q.port, q.server, () =>
        socket.send(query, (err) => {
          if (err) finish(err);
        }),
      );
    if (q.source) socket.bind(0, q.source, send);
    else send();
  });
}
