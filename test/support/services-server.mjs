// Fake upstream services for health-probe tests. Plain Node, started inside a test netns by
// services.ts. Listens on [::] (dual stack) so every address on the namespace's lo answers.
//
// usage: node services-server.mjs '{"tcpPorts":[443],"httpPort":80,"dnsPort":53}'
// Prints READY on stdout once every listener is bound; exits 1 on a bind error.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import dnsPacket from 'dns-packet';

const DNS_ANSWER_A = '192.0.2.1';

/** TCP: accept and hold the connection until the client closes (or 10 s pass). */
function tcpServer(port) {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('end', () => sock.end());
    sock.resume();
  });
  return listen(server, port);
}

const HTTP_ROUTES = { '/': 'ok', '/health': 'healthy' };

/** HTTP: GET / and /health -> 200, anything else -> 404. */
function httpServer(port) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = req.method === 'GET' ? HTTP_ROUTES[path] : undefined;
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' });
    res.end(body ?? 'not found');
  });
  return listen(server, port);
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '::', ipv6Only: false }, () => resolve(server));
  });
}

/** DNS over UDP: every A question gets 192.0.2.1, anything else an empty NOERROR. */
function dnsServer(port) {
  const sock = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  sock.on('message', (msg, rinfo) => {
    let query;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return; // not DNS; ignore like a real server would
    }
    const answers = (query.questions ?? [])
      .filter((q) => q.type === 'A')
      .map((q) => ({ type: 'A', class: 'IN', name: q.name, ttl: 60, data: DNS_ANSWER_A }));
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (query.flags & dnsPacket.RECURSION_DESIRED),
      questions: query.questions,
      answers,
    });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port, address: '::' }, () => resolve(sock));
  });
}

async function main() {
  const opts = JSON.parse(process.argv[2] ?? '{}');
  const pending = [...(opts.tcpPorts ?? []).map(tcpServer)];
  if (opts.httpPort !== undefined) pending.push(httpServer(opts.httpPort));
  if (opts.dnsPort !== undefined) pending.push(dnsServer(opts.dnsPort));
  const servers = await Promise.all(pending);
  const shutdown = () => {
    for (const s of servers) s.close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.stdout.write('READY\n');
}

main().catch((err) => {
  process.stderr.write(`services-server: ${err?.stack ?? err}\n`);
  process.exit(1);
});
