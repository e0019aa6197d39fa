// Served = decided: BIND is asked what it hands clients. An AAAA query for ipv4only.arpa (RFC 7050,
// RFC 8880) is answered from BIND's automatic zone with 192.0.0.170 and 192.0.0.171 under every
// dns64 prefix that admits the asker; prefixes with `clients { none; }` (draining) drop out. The
// prefixes are recovered from those addresses for every RFC 6052 length.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { prefixEmbedding } from '../config/prefix.js';

export interface VerifySettings {
  server: string;
  port: number;
  /** source address of the query, for a `clients` ACL that must admit it */
  source?: string;
  /** ms */
  timeout: number;
  /** ms between checks while nothing is applied */
  interval: number;
}

const WELL_KNOWN = ['192.0.0.170', '192.0.0.171'];
/** Measured with 9.18: global forwarding removes the automatic zone; a zone of its own brings it back. */
const NO_ZONE_HINT =
  ' (BIND has no ipv4only.arpa zone of its own when it forwards globally: add' +
  ' zone "ipv4only.arpa" { type forward; forward first; forwarders { }; }; to named.conf)';

/** The prefixes BIND serves to this asker, sorted. Throws when BIND does not answer usably. */
export async function queryServedPrefixes(
  v: Pick<VerifySettings, 'server' | 'port' | 'source' | 'timeout'>,
): Promise<string[]> {
  // an SSH target's default server is its ssh.host, which may be a name
  const server = net.isIP(v.server) ? v.server : (await lookup(v.server)).address;
  // UDP: a lost packet (or a busy named) is not an answer; ask up to three times
  for (let attempt = 1; ; attempt++) {
    try {
      return await ask({ ...v, server });
    } catch (err) {
      if (!(err instanceof NoAnswer) || attempt === ATTEMPTS) throw err;
    }
  }
}

const ATTEMPTS = 3;
class NoAnswer extends Error {}

function ask(v: Pick<VerifySettings, 'server' | 'port' | 'source' | 'timeout'>) {
  return new Promise<string[]>((resolve, reject) => {
    const id = randomInt(1, 65536);
    const family = net.isIPv4(v.server) ? 'udp4' : 'udp6';
    const socket = dgram.createSocket(family);
    let done = false;
    const finish = (err: Error | null, prefixes: string[] = []) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(prefixes);
    };
    const where = `${v.server.includes(':') ? `[${v.server}]` : v.server}:${v.port}`;
    const timer = setTimeout(
      () =>
        finish(
          new NoAnswer(`no answer from ${where} for ipv4only.arpa AAAA within ${v.timeout} ms (${ATTEMPTS} tries)`),
        ),
      v.timeout,
    );
    socket.on('error', (err) => finish(new Error(`asking ${where} for ipv4only.arpa AAAA: ${err.message}`)));
    socket.on('message', (msg) => {
      let reply: dnsPacket.DecodedPacket;
      try {
        reply = dnsPacket.decode(msg);
      } catch {
        return;
      }
      if (reply.id !== id || reply.type !== 'response') return;
      const rcode = (reply as { rcode?: string }).rcode; // decoded, but missing from @types/dns-packet
      if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN')
        return finish(new Error(`${where} answered ipv4only.arpa AAAA with ${rcode}${NO_ZONE_HINT}`));
      const found = new Set<string>();
      for (const a of reply.answers ?? []) {
        if (a.type !== 'AAAA' || typeof a.data !== 'string') continue;
        for (const v4 of WELL_KNOWN) {
          const p = prefixEmbedding(a.data, v4);
          if (p) found.add(p.text);
        }
      }
      finish(null, [...found].sort());
    });
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'AAAA', name: 'ipv4only.arpa' }],
    });
    const send = () =>
      // connected: an ICMP port unreachable (named stopped) is an error at once, not a timeout
      socket.connect(v.port, v.server, () =>
        socket.send(query, (err) => {
          if (err) finish(err);
        }),
      );
    if (v.source) socket.bind(0, v.source, send);
    else send();
  });
}

export interface Verdict {
  ok: boolean;
  /** what BIND serves, when it answered */
  served: string[] | null;
  detail: string;
}

/** Compares what BIND answered with the decided set. */
export function compareServed(
  decided: readonly string[],
  served: { ok: true; prefixes: string[] } | { ok: false; error: string },
): Verdict {
  if (!served.ok) return { ok: false, served: null, detail: served.error };
  if (served.prefixes.length === 0 && decided.length > 0)
    return { ok: false, served: [], detail: `BIND answered ipv4only.arpa without any prefix${NO_ZONE_HINT}` };
  const missing = decided.filter((p) => !served.prefixes.includes(p));
  const extra = served.prefixes.filter((p) => !decided.includes(p));
  const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');
  if (missing.length === 0 && extra.length === 0)
    return { ok: true, served: served.prefixes, detail: `BIND serves the decided set: ${list(decided)}` };
  return {
    ok: false,
    served: served.prefixes,
    detail:
      `BIND serves ${list(served.prefixes)}, not the decided ${list(decided)}` +
      (missing.length ? `; missing ${list(missing)}` : '') +
      (extra.length ? `; not decided ${list(extra)}` : '') +
      ' (a view with its own dns64, an include BIND does not read, a reload that did nothing,' +
      ' or a clients ACL that excludes the query?)',
  };
}
