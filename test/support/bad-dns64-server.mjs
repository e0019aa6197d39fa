// UDP servers that answer AAAA ipv4only.arpa wrongly, for the discovery tests (bad-dns64.ts).
// argv[2]: JSON { address, servers: [{ port, mode }] }; mode: garbage | no-well-known | silent.
// Prints READY once every socket is bound.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

const { address, servers } = JSON.parse(process.argv[2]);
const reply = {
  garbage: () => Buffer.from('not a DNS message'),
  'no-well-known': (q) =>
    dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [{ type: 'AAAA', name: 'ipv4only.arpa', ttl: 60, data: '2001:db8:ffff::1' }],
    }),
  silent: () => null,
};
let bound = 0;
for (const { port, mode } of servers) {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (msg, from) => {
    let q;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const out = reply[mode](q);
    if (out) socket.send(out, from.port, from.address);
  });
  socket.bind(port, address, () => {
    if (++bound === servers.length) process.stdout.write('READY\n');
  });
}
