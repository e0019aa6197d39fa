#!/usr/bin/env node
// Tiny IPv4 "internet" services for the nat64-health lab (runs inside nhlab-v4).
//
//   node http-server.mjs [--http ADDR:PORT]... [--tcp-echo ADDR:PORT]... [--udp-echo ADDR:PORT]...
//                        [--pidfile FILE]
//
// --http      GET / (any path) -> 200 "ok\n"; the body names the local address it was
//             served from in the X-Served-By header (handy to see which target answered).
// --tcp-echo  plain TCP echo (RFC 862 style): whatever you send comes back.
// --udp-echo  UDP echo: each datagram is sent back to its sender.
//
// Everything is bound explicitly to the given address; nothing listens on 0.0.0.0.
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import fs from 'node:fs';

const args = process.argv.slice(2);
const want = { http: [], 'tcp-echo': [], 'udp-echo': [] };
let pidfile = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const key = a.replace(/^--/, '');
  if (key === 'pidfile') {
    pidfile = args[++i];
    continue;
  }
  if (!(key in want) || i + 1 >= args.length) {
    console.error(
      `usage: http-server.mjs [--http A:P]... [--tcp-echo A:P]... [--udp-echo A:P]... [--pidfile F] (bad arg: ${a})`,
    );
    process.exit(2);
  }
  const v = args[++i];
  const m = /^(.*):(\d+)$/.exec(v);
  if (!m) {
    console.error(`bad ADDR:PORT: ${v}`);
    process.exit(2);
  }
  want[key].push({ host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) });
}

const ts = () => new Date().toISOString();
let pending = 0;
const ready = () => {
  if (--pending === 0) {
    if (pidfile) fs.writeFileSync(pidfile, `${process.pid}\n`);
    console.log(`${ts()} ready pid=${process.pid}`);
  }
};
const fail = (what) => (err) => {
  console.error(`${ts()} ${what}: ${err.message}`);
  process.exit(1);
};

for (const { host, port } of want.http) {
  pending++;
  const srv = http.createServer((req, res) => {
    console.log(`${ts()} http ${host}:${port} ${req.socket.remoteAddress} ${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': `${host}:${port}`, connection: 'close' });
    res.end('ok\n');
  });
  srv.on('error', fail(`http ${host}:${port}`));
  srv.listen({ host, port }, ready);
}

for (const { host, port } of want['tcp-echo']) {
  pending++;
  const srv = net.createServer((sock) => {
    console.log(`${ts()} tcp-echo ${host}:${port} ${sock.remoteAddress}`);
    sock.on('error', () => {});
    sock.pipe(sock);
  });
  srv.on('error', fail(`tcp-echo ${host}:${port}`));
  srv.listen({ host, port }, ready);
}

for (const { host, port } of want['udp-echo']) {
  pending++;
  const sock = dgram.createSocket('udp4');
  sock.on('error', fail(`udp-echo ${host}:${port}`));
  sock.on('message', (msg, rinfo) => {
    console.log(`${ts()} udp-echo ${host}:${port} ${rinfo.address}:${rinfo.port} ${msg.length}B`);
    sock.send(msg, rinfo.port, rinfo.address);
  });
  sock.bind({ address: host, port }, ready);
}

if (pending === 0) {
  console.error('nothing to serve');
  process.exit(2);
}

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
