// The world the daemon benchmarks run the real CLI in: a network namespace with TCP services, a real
// named, three simulated NAT64 prefixes (their RFC 6052 addresses of 192.0.2.10 on lo).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { createNetns, terminate } from '../test/support/netns.js';
import { startNamed, type NamedInstance } from '../test/support/named.js';
import { startServices } from '../test/support/services.js';
import { parsePrefix, synthesize } from '../src/lib/prefix.js';

/** The CLI of the development tree (dist/, from `npm run build`), with its V8 flags */
export const DIST_CLI = fileURLToPath(new URL('../bin/nat64-health.js', import.meta.url));
export const PREFIXES = ['2001:db8:64:a::/96', '2001:db8:64:b::/96', '2001:db8:64:c::/64'];

export interface BenchDaemon {
  named: NamedInstance;
  child: ChildProcess;
  state: string;
  log: string;
  /** the round counter in the state file (0 before the first write); throws once the daemon exited */
  round: () => number;
  /** a value from /proc/PID/status in MB (VmRSS, VmHWM) */
  memory: (field: 'VmRSS' | 'VmHWM') => number;
}

/**
 * Runs the daemon with `lines` (probes, health, select: everything but prefixes, bind and
 * state_file) in a fresh namespace, calls `measure`, then stops and removes everything. `cli` is
 * the executable run as `CLI run ...`: the development tree's unless given (BENCH_CLI overrides
 * both, to measure another build).
 */
export async function withBenchDaemon(
  label: string,
  tcpPorts: number[],
  lines: string[],
  measure: (d: BenchDaemon) => Promise<void>,
  cli = DIST_CLI,
): Promise<void> {
  const CLI = process.env.BENCH_CLI ?? cli;
  const ns = await createNetns(label);
  const dir = mkdtempSync(path.join(os.tmpdir(), `nh-${label}-`));
  try {
    const services = await startServices(ns, { tcpPorts });
    const named = await startNamed({ netns: ns, listen: '2001:db8:53::1', mode: 'include' });
    try {
      for (const p of PREFIXES) await ns.addAddress(`${synthesize(parsePrefix(p), '192.0.2.10')}/128`);
      const state = path.join(dir, 'state.json');
      const config = path.join(dir, 'config.yaml');
      const log = path.join(dir, 'daemon.log');
      writeFileSync(
        config,
        [
          `prefixes: [${PREFIXES.join(', ')}]`,
          ...lines,
          'bind:',
          `  output: ${named.includeFile}`,
          `  checkconf: ${JSON.stringify(named.checkconfArgv)}`,
          `  reload: ${JSON.stringify([...named.rndcArgv, 'reconfig'])}`,
          `  verify: { server: "${named.listen}", port: ${named.port} }`,
          `state_file: ${state}`,
          '',
        ].join('\n'),
      );
      // the environment of a systemd service, not this shell's (NODE_EXTRA_CA_CERTS alone is ~1.8 MB)
      const child = ns.spawn([CLI, 'run', '-c', config, '--log-format', 'json'], { logFile: log, serviceEnv: true });
      const status = () => readFileSync(`/proc/${child.pid}/status`, 'utf8');
      try {
        await measure({
          named,
          child,
          state,
          log,
          round: () => {
            // a daemon that exited (a config the schema refuses, say) never counts up: say why
            if (child.exitCode !== null || child.signalCode !== null)
              throw new Error(`the daemon exited:\n${readFileSync(log, 'utf8').slice(-2000)}`);
            try {
              return (JSON.parse(readFileSync(state, 'utf8')) as { round: number }).round;
            } catch {
              return 0;
            }
          },
          memory: (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status())![1]) / 1024,
        });
      } finally {
        await terminate(child);
      }
    } finally {
      await named.stop();
      await services.stop();
    }
  } finally {
    await ns.destroy();
  }
}
