import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { elapsedMs, errorText, type ProbeResult } from './types.js';

export interface DnsProbeSpec {
  port: number;
  name: string;
  record: 'A' | 'AAAA' | 'TXT' | 'MX' | 'NS' | 'SOA' | 'CNAME';
}

/**
 * A DNS query over UDP to the target's server through the NAT64. Success is a NOERROR reply with at
 * least one record of the asked type: a reply alone proves the path, the answer proves the server.
 */
export function probeDns(address: string, spec: DnsProbeSpec, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const id = randomInt(1, 65536);
    const socket = dgram.createSocket('udp6');
    let done = false;
    const finish = (ok: boolean, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve({ ok, latency_ms: elapsedMs(start), ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(false, 'timeout'), timeoutMs);
    socket.on('error', (err) => finish(false, errorText(err)));
    socket.on('message', (msg, rinfo) => {
      // Ignore anything that is not the answer to this query from this server (spoofing, strays).
      if (rinfo.port !== spec.port || !sameAddress(rinfo.address, address)) return;
      let reply: dnsPacket.Packet;
      try {
        reply = dnsPacket.decode(msg);
      } catch {
        return;
      }
      if (reply.id !== id || reply.type !== 'response') return;
      const rcode = (reply as { rcode?: string }).rcode; // decoded, but missing from @types/dns-packet
      if (rcode !== 'NOERROR') return finish(false, `rcode ${rcode}`);
      const answers = (reply.answers ?? []).filter((a) => a.type === spec.record);
      if (answers.length === 0) return finish(false, `no ${spec.record} record in the answer`);
      finish(true);
    });
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: spec.record, name: spec.name }],
    });
    socket.send(query, spec.port, address, (err) => {
      if (err) finish(false, errorText(err));
    });
  });
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || a.replace(/%.*$/, '') === b;
}
