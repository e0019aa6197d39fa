#!/usr/bin/env node
// `npm run bench:ssh`: time for 1, 5 and 20 SSH targets to converge on a new prefix set, applied in
// parallel as the daemon does (one connection per target, kept open between applies).
// Target (issue 5): 20 targets converge in <= 2x the time of one.
//
// All targets sit behind one real OpenSSH server on this machine (as the issue allows). Each has its
// own output file and named.conf, validated by the real named-checkconf through the shadow chain;
// the reload is `rndc status` against one real named (20 `rndc reconfig` of one shared named would
// measure named's own serialisation, not the fan-out: a real fleet has a named per host).
//
// Network profiles: loopback (no latency), and a delay proxy giving each target connection a
// WAN-like round-trip time (--rtt, default 10 ms), as resolvers in other sites have. The 20
// simulated hosts' sshd, named-checkconf and rndc run on this machine's CPUs next to the client;
// the CPU figures show how much of the 20-target time that accounts for (on a real fleet each host
// has its own CPUs, and only the client's share adds up).
//
// Runs the built code (dist/), as the daemon does: `npm run build` first (npm run bench:ssh does).
//
//   RUNS=5 node bench/ssh-fanout.mjs [--rtt 10[,30]] [--json FILE]
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { startSshd } from '../test/support/sshd.mjs';
import { BindTarget } from '../dist/apply/pipeline.js';
import { SshHost } from '../dist/apply/ssh/host.js';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 5);
const SIZES = [1, 5, 20];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A TCP relay that delays each direction by rtt/2, keeping the byte order (a WAN link). */
async function delayProxy(upstreamPort, rttMs) {
  const sockets = new Set();
  const oneWay = rttMs / 2;
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const relay = (from, to) => {
      let last = 0;
      from.on('data', (chunk) => {
        const at = Math.max(performance.now() + oneWay, last);
        last = at;
        setTimeout(() => to.write(chunk), at - performance.now());
      });
      from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - performance.now())));
    };
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** CPU time (ms) of a process and its reaped children. */
function treeCpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
}

/** A minimal real named on 127.0.0.1 with an rndc control channel (for the reload command). */
async function startNamed(dir) {
  const key = path.join(dir, 'rndc.key');
  await run('rndc-confgen', ['-a', '-c', key, '-k', 'nh-bench']);
  for (let attempt = 1; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const control = port + 1;
    const conf = path.join(dir, 'named.conf');
    const lines = [
      `include "${key}";`,
      `controls { inet 127.0.0.1 port ${control} allow { 127.0.0.1; } keys { "nh-bench"; }; };`,
      'options {',
      `\tdirectory "${dir}";`,
      `\tpid-file "${dir}/named.pid";`,
      `\tlisten-on port ${port} { 127.0.0.1; };`,
      '\tlisten-on-v6 { none; };',
      '\trecursion no;',
      '};',
    ];
    await writeFile(conf, lines.join('\n') + '\n');
    const log = path.join(dir, 'named.log');
    await writeFile(log, '');
    const proc = spawn('named', ['-g', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    proc.stdout.on('data', (d) => (text += d));
    proc.stderr.on('data', (d) => (text += d));
    const ok = await new Promise((resolve) => {
      const t = setInterval(() => {
        if (/\brunning$/m.test(text)) done(true);
        else if (proc.exitCode !== null || /address in use/i.test(text)) done(false);
      }, 50);
      const limit = setTimeout(() => done(false), 15_000);
      function done(v) {
        clearInterval(t);
        clearTimeout(limit);
        resolve(v);
      }
    });
    if (ok) {
      return {
        rndcArgv: ['rndc', '-k', key, '-s', '127.0.0.1', '-p', String(control)],
        stop: () =>
          new Promise((r) => {
            proc.once('exit', r);
            proc.kill('SIGTERM');
          }),
      };
    }
    proc.kill('SIGKILL');
    if (attempt >= 5) throw new Error(`named did not start:\n${text}`);
  }
}

export async function benchSshFanout(rtts = [0, 10]) {
  const work = await mkdtemp(path.join(os.tmpdir(), 'nh-bench-ssh-'));
  await mkdir(path.join(work, 'named'));
  // MaxStartups: 20 handshakes at once from one client would trip OpenSSH's default (10:30:100).
  const [sshd, named] = await Promise.all([
    startSshd({ maxStartups: '100:30:200' }),
    startNamed(path.join(work, 'named')),
  ]);
  try {
    const max = Math.max(...SIZES);
    const dirs = [];
    for (let i = 0; i < max; i++) {
      const d = path.join(work, `host-${i}`);
      await mkdir(path.join(d, 'nat64-health'), { recursive: true });
      await writeFile(
        path.join(d, 'named.conf'),
        `options {\n\tdirectory "${d}";\n\tinclude "${d}/nat64-health/dns64.conf";\n};\n`,
      );
      await writeFile(path.join(d, 'nat64-health', 'dns64.conf'), '');
      dirs.push(d);
    }
    const make = (i, port, knownHosts) =>
      new BindTarget(
        `bench-${i}`,
        new SshHost({
          name: `bench-${i}`,
          host: '127.0.0.1',
          port,
          user: sshd.user,
          private_key: sshd.clientKey,
          known_hosts: knownHosts,
          timeout: 15_000,
          keepalive: 15_000,
        }),
        {
          mode: 'include',
          output: path.join(dirs[i], 'nat64-health', 'dns64.conf'),
          checkconf: ['named-checkconf', path.join(dirs[i], 'named.conf')],
          reload: [...named.rndcArgv, 'status'],
          command_timeout: 30_000,
        },
        { background: true },
      );
    let serial = 0;
    const converge = async (targets) => {
      // a new prefix set each time: every target really writes, validates and reloads
      const text = `// set ${++serial}\ndns64 2001:db8:64:${(serial % 9) + 1}::/96 { clients { any; }; };\n`;
      const start = performance.now();
      const outcomes = await Promise.all(targets.map((t) => t.apply(text)));
      const ms = performance.now() - start;
      const bad = outcomes.find((o) => o.result !== 'applied');
      if (bad) throw new Error(`${bad.target}: ${bad.result} ${bad.stage ?? ''} ${bad.error ?? ''}`);
      return ms;
    };

    const results = [];
    for (const rtt of rtts) {
      const proxies = rtt > 0 ? await Promise.all(Array.from({ length: max }, () => delayProxy(sshd.port, rtt))) : [];
      const ports = proxies.length ? proxies.map((p) => p.port) : Array.from({ length: max }, () => sshd.port);
      const knownHosts = path.join(work, `known_hosts.${rtt}`);
      await writeFile(knownHosts, [...new Set(ports)].map((p) => `[127.0.0.1]:${p} ${sshd.hostPub}\n`).join(''));
      try {
        for (const n of SIZES) {
          const cold = [];
          const warm = [];
          const remote0 = treeCpuMs(sshd.pid);
          const client0 = process.cpuUsage();
          for (let r = 0; r < RUNS; r++) {
            const targets = Array.from({ length: n }, (_, i) => make(i, ports[i], knownHosts));
            try {
              cold.push(await converge(targets));
              warm.push(await converge(targets));
            } finally {
              await Promise.all(targets.map((t) => t.close()));
            }
          }
          await new Promise((r) => setTimeout(r, 300 + rtt)); // let sshd reap its sessions
          const c = process.cpuUsage(client0);
          const applies = 2 * RUNS * n;
          results.push({
            rtt_ms: rtt,
            targets: n,
            cold_ms: median(cold),
            warm_ms: median(warm),
            client_cpu_ms: (c.user + c.system) / 1000 / applies,
            remote_cpu_ms: (treeCpuMs(sshd.pid) - remote0) / applies,
          });
        }
      } finally {
        await Promise.all(proxies.map((p) => p.close()));
      }
    }
    print(results, rtts);
    return results;
  } finally {
    await Promise.all([sshd.stop(), named.stop()]);
    await rm(work, { recursive: true, force: true });
  }
}

function print(results, rtts) {
  const cpus = os.cpus().length;
  for (const rtt of rtts) {
    const rs = results.filter((r) => r.rtt_ms === rtt);
    const one = rs[0];
    const where = rtt ? `${rtt} ms RTT per target` : 'loopback';
    console.log(`\n## SSH fan-out, ${where}: time until every target serves the new set (median of ${RUNS})`);
    const line = (name, value, note = '') =>
      console.log(`${name.padEnd(44)} ${value.padStart(10)}${note ? `   ${note}` : ''}`);
    for (const r of rs) {
      const vs = (a, b) =>
        r.targets === 1 ? '' : `(${(a / b).toFixed(2)}x one target; target <= 2x: ${a <= 2 * b ? 'met' : 'MISSED'})`;
      line(`${r.targets} target(s), new connections`, `${r.cold_ms.toFixed(0)} ms`, vs(r.cold_ms, one.cold_ms));
      line(`${r.targets} target(s), kept-alive connections`, `${r.warm_ms.toFixed(0)} ms`, vs(r.warm_ms, one.warm_ms));
    }
    const big = rs[rs.length - 1];
    line('CPU per apply: client (this process)', `${big.client_cpu_ms.toFixed(1)} ms`);
    line('CPU per apply: simulated host (sshd tree)', `${big.remote_cpu_ms.toFixed(1)} ms`);
    line(
      `${big.targets} applies' CPU over ${cpus} CPUs (floor here)`,
      `${((big.targets * (big.client_cpu_ms + big.remote_cpu_ms)) / cpus).toFixed(0)} ms`,
    );
    line(`${big.targets} applies' client CPU (floor on a fleet)`, `${(big.targets * big.client_cpu_ms).toFixed(0)} ms`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { json: { type: 'string' }, rtt: { type: 'string', default: '10' } } });
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  const machine = `node ${process.version}, ${os.cpus().length} CPUs`;
  console.log(`nat64-health ${pkg.version} SSH fan-out benchmark, ${machine}, ${new Date().toISOString()}`);
  const rtts = [
    0,
    ...values.rtt
      .split(',')
      .map(Number)
      .filter((n) => n > 0),
  ];
  const results = await benchSshFanout(rtts);
  if (values.json) await writeFile(values.json, JSON.stringify(results, null, 2) + '\n');
}
