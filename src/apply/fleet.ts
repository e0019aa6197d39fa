// The fleet: one BindTarget per entry of `targets:` (the local BIND and SSH ones), each on its own
// Host, and the read-only per-target checks behind `nat64-health targets test`.
import type { Config } from '../config/load.js';
import { DEFAULT_TARGETS, type TargetConfig } from '../config/targets.js';
import { LocalHost } from './local/host.js';
import { BindTarget } from './pipeline.js';
import type { TargetCheck } from './target.js';
import { SshHost } from './ssh/host.js';

export function targetsOf(config: Pick<Config, 'targets'>): TargetConfig[] {
  return config.targets ?? DEFAULT_TARGETS;
}

/** `soleWriter`: this process holds the output's lock (daemon/writer-locks.ts) */
export function localTarget(bind: Config['bind'], opts: { soleWriter?: boolean } = {}): BindTarget {
  return new BindTarget('local', new LocalHost(), bind, { verify: bind.verify, soleWriter: opts.soleWriter });
}

export function sshTarget(t: Extract<TargetConfig, { kind: 'ssh' }>, opts: { remoteTmp?: string } = {}): BindTarget {
  const host = new SshHost({ ...t.ssh, name: t.name });
  return new BindTarget(t.name, host, t.bind, {
    background: true,
    tmpDir: opts.remoteTmp ?? '/tmp',
    verify: t.bind.verify,
  });
}

/** What a target is made of: a runner whose key is unchanged keeps its target across config reloads. */
export function targetKey(config: Pick<Config, 'bind'>, t: TargetConfig): string {
  return JSON.stringify(t.kind === 'local' ? { local: config.bind } : t);
}

/** Where a target's output is: its "reload pending" stays true for a new target writing the same file. */
export function outputKey(config: Pick<Config, 'bind'>, t: TargetConfig): string {
  return t.kind === 'local'
    ? `local:${config.bind.output}`
    : `${t.ssh.user}@${t.ssh.host}:${t.ssh.port}:${t.bind.output}`;
}

export function makeTarget(
  config: Pick<Config, 'bind'>,
  t: TargetConfig,
  opts: { soleWriter?: boolean } = {},
): BindTarget {
  return t.kind === 'local' ? localTarget(config.bind, opts) : sshTarget(t);
}

export interface TargetReport {
  name: string;
  kind: 'local' | 'ssh';
  /** where it is: user@host:port or "this host" */
  where: string;
  ok: boolean;
  checks: TargetCheck[];
}

/** Checks every target in parallel; changes nothing anywhere. */
export async function testTargets(config: Pick<Config, 'targets' | 'bind'>): Promise<TargetReport[]> {
  return Promise.all(
    targetsOf(config).map(async (t): Promise<TargetReport> => {
      const target = makeTarget(config, t);
      try {
        const checks = await target.test();
        return { name: t.name, kind: t.kind, where: target.host.where, ok: checks.every((c) => c.ok), checks };
      } finally {
        await target.close();
      }
    }),
  );
}

/** `targets test` output: one block per target, one line per check. */
export function formatTargetReports(reports: TargetReport[]): string {
  const width = Math.max(...reports.flatMap((r) => r.checks.map((c) => c.check.length)), 5);
  const out: string[] = [];
  for (const r of reports) {
    out.push(`${r.name} (${r.where}): ${r.ok ? 'OK' : 'FAILED'}`);
    for (const c of r.checks) out.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.check.padEnd(width)}  ${c.detail}`);
  }
  const bad = reports.filter((r) => !r.ok).length;
  out.push(bad === 0 ? `all ${reports.length} target(s) ready` : `${bad} of ${reports.length} target(s) not ready`);
  return out.join('\n') + '\n';
}
