/**
 * End-to-end fixture: the real NAT64 lab (lab/lab.sh: three TAYGA gateways, a DNS64 BIND, an
 * IPv6-only client) with the real daemon (bin/nat64-health.js from dist/) running inside the
 * resolver namespace, exactly as an operator would run it.
 *
 * Everything lives under the lab's state dir, so `lab.sh down` removes it; the daemon's log is
 * also copied to test-artifacts/ (for CI) and printed when a test fails.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import ipaddr from 'ipaddr.js';
import { parsePrefix, synthesize } from '../../src/lib/prefix.js';
import { waitFor } from '../support/wait.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LAB_SH = path.join(ROOT, 'lab/lab.sh');
export const CLI = path.join(ROOT, 'bin/nat64-health.js');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
export const STATE = process.env.LAB_STATE ?? '/run/nat64-health-lab';
export const RESOLVER6 = '2001:db8:100::53';
/** the client namespace's own address (lab.sh CLIENT6): the source of every query that names none */
export const CLIENT6 = '2001:db8:100::100';
export const WWW = 'www.example.test';
export const WWW4 = '192.0.2.10';
export const SVC4 = '198.51.100.10';
export const AUTH4 = '192.0.2.53';
/** gateway number -> its NAT64 prefix id (canonical text, as in logs and the state file) */
export const GW: Record<1 | 2 | 3, string> = {
  1: '2001:db8:64:a::/96',
  2: '2001:db8:64:b::/96',
  3: '2001:db8:64:c::/64',
};
export type GwNo = 1 | 2 | 3;
export const GWS: GwNo[] = [1, 2, 3];
export const HTTP_PROBE = `http ${WWW4}:80/`;

export function gwOf(prefixId: string): GwNo {
  const n = GWS.find((g) => GW[g] === prefixId);
  if (!n) throw new Error(`no lab gateway for prefix ${prefixId}`);
  return n;
}

/** RFC 5952 text of the synthesized address of ipv4 under prefixId (the form dig prints). */
export function synth(prefixId: string, ipv4 = WWW4): string {
  return ipaddr.parse(synthesize(parsePrefix(prefixId), ipv4)).toString();
}

/** Why the lab cannot run here (null: it can). The lab needs root and the Debian packages. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const missing = ['tayga', 'named', 'named-checkconf', 'rndc', 'rndc-confgen', 'dig', 'ip'].filter(
    (t) =>
      !['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'].some((d) =>
        existsSync(path.join(d, t)),
      ),
  );
  if (missing.length > 0)
    return `missing tools: ${missing.join(' ')} (apt-get install tayga bind9 bind9-utils dnsutils iproute2)`;
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) return 'dist/ is not built (npm run build)';
  return null;
}

// ---- the lab ----------------------------------------------------------------------------------

export async function lab(...args: string[]): Promise<string> {
  const r = await execa(LAB_SH, args, { env: { LAB_STATE: STATE }, reject: false, all: true, timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`lab.sh ${args.join(' ')} failed (${r.exitCode}):\n${r.all}`);
  return r.all ?? '';
}

/**
 * One lab user at a time (the namespace names are fixed): the e2e tests and bench:failover hold an
 * exclusive flock on this file while they use the lab, so a second run waits instead of tearing
 * down the first one's lab. Released by release(), or by the kernel when this process dies.
 */
export const LOCK_FILE = `${STATE.replace(/\/+$/, '')}.lock`;

export async function acquireLabLock(timeoutMs: number): Promise<() => void> {
  const child = spawn(
    'flock',
    ['-w', String(Math.ceil(timeoutMs / 1000)), LOCK_FILE, 'sh', '-c', 'echo locked; exec cat'],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  );
  const waiting = setTimeout(
    () => console.warn(`waiting for ${LOCK_FILE}: another e2e or bench:failover run is using the lab`),
    1000,
  );
  const ok = await new Promise<boolean>((resolve) => {
    child.stdout.once('data', () => resolve(true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  clearTimeout(waiting);
  if (!ok) throw new Error(`could not lock ${LOCK_FILE} within ${timeoutMs} ms: another run is using the lab`);
  return () => child.stdin.end();
}

let labIsOurs = false;
let exitHookInstalled = false;

/** Last resort when the worker is torn down mid-test: afterAll does not run then. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const downSync = () => {
    if (!labIsOurs) return;
    labIsOurs = false;
    try {
      execFileSync(LAB_SH, ['down'], { stdio: 'ignore', env: { ...process.env, LAB_STATE: STATE }, timeout: 30_000 });
    } catch {
      // the next run's pre-clean `down` catches it
    }
  };
  process.once('exit', downSync);
  // vitest ends fork workers with SIGTERM, which skips 'exit' handlers: clean up, then re-raise
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      downSync();
      process.kill(process.pid, sig);
    });
  }
}

export async function labUp(): Promise<void> {
  installExitHook();
  labIsOurs = true;
  await lab('up');
}

/** Idempotent; never throws (it runs in afterAll, also after failures). */
export async function labDown(): Promise<void> {
  await lab('down').catch((err) => console.error(String(err)));
  labIsOurs = false;
}
export const fail = (n: GwNo) => lab('fail', String(n));
export const heal = (n: GwNo) => lab('heal', String(n));

/** Run argv inside a lab namespace (short name: client, resolver, ...). */
export async function inNs(ns: string, argv: string[], timeoutMs = 10_000) {
  return execa('ip', ['netns', 'exec', `nhlab-${ns}`, ...argv], { reject: false, timeout: timeoutMs });
}

/**
 * More client addresses in the client namespace, on its core link beside CLIENT6, for client pools
 * (named tells the pools apart by source address). Added deprecated (preferred_lft 0): the kernel
 * never picks them as a source on its own, so a client that names no source stays CLIENT6, and
 * one bound to them (dig -b, connect from) works as usual.
 */
export async function addClientAddress(addr: string): Promise<void> {
  const r = await execa(
    'ip',
    ['-n', 'nhlab-client', '-6', 'addr', 'add', `${addr}/64`, 'dev', 'core', 'nodad', 'preferred_lft', '0'],
    { reject: false },
  );
  if (r.exitCode !== 0) throw new Error(`adding client address ${addr} failed: ${r.stderr}`);
}

/**
 * The client's AAAA answer for name, normalised and sorted ([] for NODATA), asked from source
 * address `from` (default: the kernel's choice, CLIENT6). Throws on no answer.
 */
export async function clientAAAA(name = WWW, from?: string): Promise<string[]> {
  const source = from ? ['-b', from] : [];
  const r = await inNs('client', ['dig', ...source, '+time=2', '+tries=1', '+short', 'AAAA', name, `@${RESOLVER6}`]);
  if (r.exitCode !== 0) throw new Error(`dig AAAA ${name} failed: ${r.stdout}${r.stderr}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && ipaddr.IPv6.isValid(l))
    .map((l) => ipaddr.parse(l).toString())
    .sort();
}

export const expectedAAAA = (prefixIds: string[], ipv4 = WWW4) => prefixIds.map((p) => synth(p, ipv4)).sort();

/** dig -x from the client (from source address `from`): rcode and the CNAME/PTR records of the answer. */
export async function clientReverse(
  addr: string,
  from?: string,
): Promise<{ status: string; cname: string[]; ptr: string[] }> {
  const source = from ? ['-b', from] : [];
  const r = await inNs('client', ['dig', ...source, '+time=2', '+tries=1', '-x', addr, `@${RESOLVER6}`]);
  const status = /status: ([A-Z]+)/.exec(r.stdout)?.[1] ?? `no answer (${r.exitCode})`;
  const records = (type: string) =>
    r.stdout
      .split('\n')
      .filter((l) => !l.startsWith(';'))
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === type)
      .map((f) => f[4]!);
  return { status, cname: records('CNAME'), ptr: records('PTR') };
}

/** An HTTP GET from the client (from source address `from`) to [addr]:80: a fresh TCP connection through the NAT64. */
export async function clientHttp(addr: string, timeoutMs = 3000, from?: string): Promise<string> {
  const script = `const s=require('net').connect({host:process.argv[1],port:80,family:6,localAddress:process.argv[2]});
s.setTimeout(${timeoutMs},()=>{console.log('timeout');process.exit(1)});
s.on('error',e=>{console.log(e.code||e.message);process.exit(1)});
s.on('connect',()=>s.write('GET / HTTP/1.0\\r\\nHost: lab\\r\\n\\r\\n'));
let b='';s.on('data',d=>b+=d);s.on('end',()=>{console.log(b.split('\\r\\n')[0]);process.exit(0)});`;
  const r = await inNs('client', [process.execPath, '-e', script, addr, ...(from ? [from] : [])], timeoutMs + 5000);
  return r.stdout.trim();
}

/** One answer a ClientPoller got: when it arrived (ms), from which client, the sorted AAAA or why none. */
export interface PolledAnswer {
  t: number;
  from: string;
  addrs?: string[];
  error?: string;
}

/**
 * Inside the client namespace, for each source address in `from`, asks the resolver for AAAA `name`
 * every `everyMs` (one query at a time per source, a UDP socket bound to the source) and records
 * every answer. One process for all of them: cheaper than a dig per poll, so the polling does not
 * slow down the daemon it watches.
 */
export class ClientPoller {
  readonly answers: PolledAnswer[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(from: string[], name = WWW, everyMs = 50) {
    const dnsPacket = createRequire(import.meta.url).resolve('dns-packet');
    const script = `const dgram=require('dgram');const pkt=require(process.argv[1]);
const [server,name,every,...from]=process.argv.slice(2);let stopping=false;
process.on('SIGTERM',()=>{stopping=true});
const ask=(sock,id)=>new Promise((resolve)=>{
  const timer=setTimeout(()=>{sock.removeAllListeners('message');resolve({error:'timeout'})},1000);
  sock.on('message',(m)=>{let r;try{r=pkt.decode(m)}catch{return}if(r.id!==id)return;
    clearTimeout(timer);sock.removeAllListeners('message');
    resolve(r.rcode!=='NOERROR'?{error:'rcode '+r.rcode}:{addrs:r.answers.filter(a=>a.type==='AAAA').map(a=>a.data)})});
  sock.send(pkt.encode({type:'query',id,flags:pkt.RECURSION_DESIRED,questions:[{type:'AAAA',name}]}),53,server)});
const loop=async(src)=>{const sock=dgram.createSocket('udp6');
  await new Promise((r)=>sock.bind({address:src},r));let id=0;
  while(!stopping){id=(id+1)&0xffff;const r=await ask(sock,id);
    process.stdout.write(JSON.stringify({t:Date.now(),from:src,...r})+'\\n');
    await new Promise((r)=>setTimeout(r,Number(every)))}
  sock.close()};
Promise.all(from.map(loop)).then(()=>process.exit(0));`;
    this.child = spawn(
      'ip',
      [
        'netns',
        'exec',
        'nhlab-client',
        process.execPath,
        '-e',
        script,
        dnsPacket,
        RESOLVER6,
        name,
        String(everyMs),
      ].concat(from),
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stdout! }).on('line', (raw) => {
      const a = JSON.parse(raw) as PolledAnswer;
      this.answers.push(a.addrs ? { ...a, addrs: a.addrs.map((x) => ipaddr.parse(x).toString()).sort() } : a);
    });
  }

  /** The answers `from` got, from time `since` on. */
  of(from: string, since = 0): PolledAnswer[] {
    return this.answers.filter((a) => a.from === from && a.t >= since);
  }

  /** SIGTERM: each loop ends after its query in flight; never throws. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---- the daemon -------------------------------------------------------------------------------

export interface Profile {
  interval: string;
  fast_interval: string;
  timeout: string;
  rise: number;
  fall: number;
  quorum?: number;
  confirm_burst?: boolean;
  min_active?: number;
  max_active?: number;
  drain?: string;
  extraSelect?: string;
  /** each gateway's prefix group (`group:`); none without it */
  groups?: Partial<Record<GwNo, string>>;
  /** client pools (`pools:`); none without it */
  pools?: PoolProfile[];
}

export interface PoolProfile {
  name: string;
  clients: string[];
  groups?: string[];
  min_active?: number;
  max_active?: number;
}

/** Fast enough for tests: a dead gateway is out within interval + fall x (fast_interval + timeout) = 3 s. */
export const AGGRESSIVE: Profile = { interval: '1s', fast_interval: '500ms', timeout: '500ms', rise: 2, fall: 2 };

export const DAEMON_DIR = path.join(STATE, 'nat64-health');
export const CONFIG_FILE = path.join(DAEMON_DIR, 'config.yaml');
export const STATE_FILE = path.join(DAEMON_DIR, 'state.json');
export const DNS64_FILE = path.join(STATE, 'resolver/dns64.conf');
export const NAMED_LOG = path.join(STATE, 'resolver/named.log');

/** The daemon config for the lab: its three prefixes, three independent probe targets. */
export function configYaml(p: Profile): string {
  const r = `${STATE}/resolver`;
  const group = (n: GwNo) => (p.groups?.[n] ? `, group: ${p.groups[n]}` : '');
  return `# nat64-health e2e config (generated by test/e2e/lab-fixture.ts)
prefixes:
${GWS.map((n) => `  - { prefix: "${GW[n]}", name: gw${n}${group(n)} }\n`).join('')}probes:
  - { type: http, address: ${WWW4}, port: 80 }
  - { type: tcp, address: ${SVC4}, port: 7 }
  - { type: dns, address: ${AUTH4}, name: ${WWW}, record: A }
health:
  interval: ${p.interval}
  fast_interval: ${p.fast_interval}
  timeout: ${p.timeout}
  rise: ${p.rise}
  fall: ${p.fall}
  quorum: ${p.quorum ?? 1}
  confirm_burst: ${p.confirm_burst ?? false}
select:
  min_active: ${p.min_active ?? 1}
  max_active: ${p.max_active ?? 2}
  drain: ${p.drain ?? '0s'}
${p.extraSelect ?? ''}${poolsYaml(p.pools)}bind:
  mode: include
  output: ${r}/dns64.conf
  checkconf: [named-checkconf, ${r}/named.conf]
  reload: [rndc, -c, ${r}/rndc.conf, reconfig]
  verify: { server: "${RESOLVER6}" }
state_file: ${STATE_FILE}
`;
}

function poolsYaml(pools: PoolProfile[] | undefined): string {
  if (!pools?.length) return '';
  const list = (a: string[]) => `[${a.map((x) => JSON.stringify(x)).join(', ')}]`;
  const line = (p: PoolProfile) =>
    [
      `name: ${p.name}`,
      `clients: ${list(p.clients)}`,
      ...(p.groups ? [`groups: ${list(p.groups)}`] : []),
      ...(p.min_active !== undefined ? [`min_active: ${p.min_active}`] : []),
      ...(p.max_active !== undefined ? [`max_active: ${p.max_active}`] : []),
    ].join(', ');
  return `pools:\n${pools.map((p) => `  - { ${line(p)} }\n`).join('')}`;
}

/** Replace the config file in one step (the daemon's watcher re-reads it). */
export async function writeConfig(p: Profile): Promise<void> {
  await mkdir(DAEMON_DIR, { recursive: true });
  const tmp = `${CONFIG_FILE}.tmp`;
  await writeFile(tmp, configYaml(p));
  await rename(tmp, CONFIG_FILE);
}

export interface LogLine {
  /** local receive time, ms */
  at: number;
  time: string;
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface StateSnapshot {
  round: number;
  failsafe: boolean;
  active: string[];
  draining: string[];
  target_faults: string[];
  prefixes: Array<{
    prefix: string;
    status: string;
    active: boolean;
    draining: boolean;
    good_streak: number;
    bad_streak: number;
    loss_ratio: number | null;
  }>;
  /** each client pool's selection, in config order; absent without pools */
  pools?: Array<{ name: string; active: string[]; draining_since: Record<string, string>; failsafe: boolean }>;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export { waitFor };

/** The daemon as operators run it: `ip netns exec nhlab-resolver node bin/nat64-health.js run`. */
export class LabDaemon {
  readonly lines: LogLine[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private artifact = '';

  async start(label: string): Promise<void> {
    await mkdir(ARTIFACTS, { recursive: true });
    this.artifact = path.join(ARTIFACTS, `e2e-${label}-daemon.log`);
    await writeFile(this.artifact, '');
    const child = spawn(
      'ip',
      ['netns', 'exec', 'nhlab-resolver', process.execPath, CLI, 'run', '-c', CONFIG_FILE, '--log-format', 'json'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    createInterface({ input: child.stderr }).on('line', (raw) => {
      try {
        appendFileSync(this.artifact, raw + '\n');
      } catch {
        // the artifact is a convenience; the lines are kept in memory regardless
      }
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        parsed = { level: 'raw', msg: raw, time: new Date().toISOString() };
      }
      this.lines.push({ time: '', level: '', msg: '', ...parsed, at: Date.now() });
    });
  }

  /** SIGTERM, then SIGKILL after 5 s; never throws. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A position in the log: pass it to since() to see only what came after. */
  mark(): number {
    return this.lines.length;
  }

  since(mark: number, msg?: RegExp | string): LogLine[] {
    const l = this.lines.slice(mark);
    if (msg === undefined) return l;
    return l.filter((x) => (typeof msg === 'string' ? x.msg === msg : msg.test(x.msg)));
  }

  /** Applies that rewrote dns64.conf and reloaded BIND. */
  applies(mark: number): LogLine[] {
    return this.since(mark, 'applied to local');
  }

  async waitLog(what: string, mark: number, msg: RegExp | string, timeoutMs: number): Promise<LogLine> {
    return waitFor(what, () => this.since(mark, msg)[0], timeoutMs, 50);
  }

  tail(n = 60): string {
    return this.lines
      .slice(-n)
      .map(({ at: _at, time, level, msg, ...fields }) => `${time} ${level} ${msg} ${JSON.stringify(fields)}`)
      .join('\n');
  }
}

export async function readState(): Promise<StateSnapshot> {
  return JSON.parse(await readFile(STATE_FILE, 'utf8')) as StateSnapshot;
}

/** BIND's own count of `rndc reconfig` commands (independent of the daemon's log). */
export async function reconfigCount(): Promise<number> {
  const text = await readFile(NAMED_LOG, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes("received control channel command 'reconfig'")).length;
}

/**
 * Heal everything, then wait for the steady state: every prefix up with clean streaks, not in
 * fail-safe, nothing draining, `want` prefixes active and the client's answer matching them.
 */
export async function settle(want = 2, timeoutMs = 15_000): Promise<StateSnapshot> {
  for (const n of GWS) await heal(n);
  await lab('start-service', 'http');
  return waitFor(
    `a steady state with ${want} active prefixes`,
    async () => {
      const s = await readState();
      const clean = s.prefixes.every((p) => p.status === 'up' && p.bad_streak === 0);
      if (!clean || s.failsafe || s.draining.length > 0 || s.active.length !== want || s.target_faults.length > 0)
        return false;
      const got = await clientAAAA();
      return JSON.stringify(got) === JSON.stringify(expectedAAAA(s.active)) ? s : false;
    },
    timeoutMs,
    200,
  );
}
