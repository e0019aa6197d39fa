#!/usr/bin/env node
// The lab client's view, for bench/failover.mjs: runs inside nhlab-client and asks the DNS64
// resolver for AAAA NAME every EVERY_MS, one query at a time. Prints one JSON line per change of
// the answer: {"t": epoch ms when the answer arrived, "addrs": [sorted]} (or "error": ...).
//
//   node bench/failover-poller.mjs RESOLVER NAME [EVERY_MS]
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import ipaddr from 'ipaddr.js';

const [server, name, every = '20'] = process.argv.slice(2);
if (!server || !name) {
  console.error('usage: failover-poller.mjs RESOLVER NAME [EVERY_MS]');
  process.exit(64);
}
const TIMEOUT_MS = 1000;
const sock = dgram.createSocket('udp6');
let id = 0;
let pending = null;
sock.on('message', (msg) => {
  let reply;
  try {
    reply = dnsPacket.decode(msg);
  } catch {
    return;
  }
  if (!pending || reply.id !== pending.id) return;
  const p = pending;
  pending = null;
  clearTimeout(p.timer);
  if (reply.rcode !== 'NOERROR') return p.resolve({ error: `rcode ${reply.rcode}` });
  p.resolve({
    addrs: reply.answers
      .filter((a) => a.type === 'AAAA')
      .map((a) => ipaddr.parse(a.data).toString())
      .sort(),
  });
});

function query() {
  return new Promise((resolve) => {
    id = (id + 1) & 0xffff;
    const timer = setTimeout(() => {
      pending = null;
      resolve({ error: 'timeout' });
    }, TIMEOUT_MS);
    pending = { id, resolve, timer };
    sock.send(
      dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'AAAA', name }] }),
      53,
      server,
    );
  });
}

let last = '';
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => (stopping = true));
while (!stopping) {
  const r = await query();
  const key = JSON.stringify(r);
  if (key !== last) {
    last = key;
    process.stdout.write(JSON.stringify({ t: Date.now(), ...r }) + '\n');
  }
  await new Promise((res) => setTimeout(res, Number(every)));
}
sock.close();
