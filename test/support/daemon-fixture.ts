/**
 * A simulated NAT64 world in one network namespace, for the daemon's integration tests: the
 * synthesized address of each target under a "live" prefix sits on lo with real listeners behind
 * it, so probing through that prefix succeeds; a "dead" prefix has no address and fails. Plus a
 * real named whose dns64 config the daemon manages.
 */
import { readFile, rename, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { parsePrefix, synthesize } from '../../src/lib/prefix.js';
import { terminate, type Netns } from './netns.js';
import type { NamedInstance } from './named.js';

export const CLI = fileURLToPath(new URL('../../bin/nat64-health.js', import.meta.url));
export const TARGET = '192.0.2.10'; // www.example.test in the harness zone
export const DNS_TARGET = '198.51.100.10';

/** The addresses that probes of TARGET and DNS_TARGET through `prefix` go to. */
const probedAddresses = (prefix: string) => [TARGET, DNS_TARGET].map((v4) => synthesize(parsePrefix(prefix), v4));

/** Make probes of TARGET/DNS_TARGET through prefix succeed (address present) or fail (absent). */
export async function setPrefixAlive(ns: Netns, prefix: string, alive: boolean): Promise<void> {
  for (const addr of probedAddresses(prefix)) {
    if (alive) await ns.addAddress(`${addr}/128`);
    else await ns.run(['ip', '-6', 'addr', 'del', `${addr}/128`, 'dev', 'lo']);
  }
}

/**
 * Takes several prefixes down at once: one `ip -batch` deletes all their addresses, well within a
 * round, where one `ip` per address spans rounds on a loaded machine and the daemon sees them die
 * one after the other.
 */
export async function killPrefixes(ns: Netns, prefixes: string[]): Promise<void> {
  const lines = prefixes.flatMap(probedAddresses).map((addr) => `'addr del ${addr}/128 dev lo'`);
  await ns.run(['sh', '-c', `printf '%s\\n' ${lines.join(' ')} | ip -6 -batch -`], { check: true });
}

export function www(prefix: string): string {
  return synthesize(parsePrefix(prefix), TARGET);
}

export interface ConfigOptions {
  prefixes: string[];
  named: NamedInstance;
  mode?: 'include' | 'block';
  extra?: string;
  reload?: string[];
  template?: string;
  maxActive?: number;
  drain?: string;
}

/** A fast-cycling config: rounds every 300 ms, decisions after 2 rounds. */
export function configText(o: ConfigOptions, stateFile: string): string {
  const mode = o.mode ?? 'include';
  const output = mode === 'include' ? o.named.includeFile : o.named.optionsConf;
  return `prefixes:
${o.prefixes.map((p) => `  - ${p}`).join('\n')}
probes:
  - { type: tcp, address: ${TARGET}, port: 80 }
  - { type: http, address: ${TARGET}, port: 8080, path: /health }
  - { type: dns, address: ${DNS_TARGET}, port: 5353, name: probe.example.test }
health: { interval: 400ms, fast_interval: 200ms, timeout: 300ms, rise: 2, fall: 2 }
select: { min_active: 1, max_active: ${o.maxActive ?? 2}, drain: ${o.drain ?? '1h'} }
bind:
  mode: ${mode}
  output: ${output}
  checkconf: ${JSON.stringify(o.named.checkconfArgv)}
  reload: ${JSON.stringify(o.reload ?? [...o.named.rndcArgv, 'reconfig'])}
  verify: { server: "${o.named.listen}", port: ${o.named.port} }
${o.template ? `  template: ${o.template}\n` : ''}state_file: ${stateFile}
${o.extra ?? ''}`;
}

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `nh-${label}-`));
}

export { waitFor } from './wait.js';

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

/**
 * The JSON lines of a daemon's log so far. The daemon may be writing its last line as this reads:
 * only lines that have their newline count.
 */
export async function readLogLines<T = LogLine>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

/** The daemon, run as operators run it (the CLI, JSON logs), inside the namespace. */
export class DaemonProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  /** `wrap`: a command that runs it (setpriv, to drop capabilities) */
  static start(
    ns: Netns,
    configFile: string,
    logFile: string,
    args: string[] = [],
    wrap: string[] = [],
  ): DaemonProcess {
    const child = ns.spawn(
      [...wrap, 'node', CLI, 'run', '-c', configFile, '--log-format', 'json', '--log-level', 'debug', ...args],
      { logFile },
    );
    return new DaemonProcess(child, logFile);
  }

  async logs(): Promise<LogLine[]> {
    return readLogLines(this.logFile);
  }

  async count(pattern: RegExp): Promise<number> {
    return (await this.logs()).filter((l) => pattern.test(l.msg)).length;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /**
   * SIGTERM, then SIGKILL after 10 s: tests check the clean stop (exit code 0, the last log line),
   * and a loaded machine must not turn a slow one into a kill.
   */
  async stop(): Promise<void> {
    await terminate(this.child, 10_000);
  }
}

export interface StateJson {
  pid: number;
  active: string[];
  draining: string[];
  failsafe: boolean;
  round: number;
  targets: Array<{ last_apply: { result: string; stage?: string; error?: string } | null }>;
  last_config_reload: { ok: boolean; error?: string } | null;
}

export async function readState(file: string): Promise<StateJson> {
  return JSON.parse(await readFile(file, 'utf8')) as StateJson;
}

export { writeFile, readFile };

/**
 * A hand edit that lands whole: written beside the file, then renamed over it (as `sed -i` does),
 * so a daemon that reads the file every round never reads it truncated and half written.
 */
export async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.edit-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
