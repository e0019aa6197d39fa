// The fleet: one BindTarget per entry of `targets:` (the local BIND and SSH ones), and the
// read-only per-target checks behind `nat64-health targets test`.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { DEFAULT_TARGETS, type TargetConfig } from '../config/targets.js';
import { includesFile } from './checkconf.js';
import { runCommand } from './commands.js';
import { LocalBindTarget, type BindTarget } from './local-target.js';
import { reloadProbe, SshBindTarget, type TargetCheck } from './ssh-target.js';

export function targetsOf(config: Pick<Config, 'targets'>): TargetConfig[] {
  return config.targets ?? DEFAULT_TARGETS;
}

export function makeSshTarget(t: Extract<TargetConfig, { kind: 'ssh' }>): SshBindTarget {
  return new SshBindTarget(t.name, t.ssh, t.bind);
}

/** The daemon's targets for a config. */
export function makeTargets(config: Pick<Config, 'targets' | 'bind'>): BindTarget[] {
  return targetsOf(config).map((t) => (t.kind === 'local' ? new LocalBindTarget(config.bind) : makeSshTarget(t)));
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
      if (t.kind === 'local') {
        const checks = await testLocal(config.bind);
        return { name: t.name, kind: 'local', where: 'this host', ok: checks.every((c) => c.ok), checks };
      }
      const target = makeSshTarget(t);
      try {
        const checks = await target.test();
        const host = t.ssh.host.includes(':') && !t.ssh.host.startsWith('[') ? `[${t.ssh.host}]` : t.ssh.host;
        return {
          name: t.name,
          kind: 'ssh',
          where: `${t.ssh.user}@${host}:${t.ssh.port}`,
          ok: checks.every((c) => c.ok),
          checks,
        };
      } finally {
        await target.close();
      }
    }),
  );
}

async function testLocal(bind: Config['bind']): Promise<TargetCheck[]> {
  const checks: TargetCheck[] = [];
  const add = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });
  const dir = path.dirname(bind.output);
  const fileExists = await fs.stat(bind.output).then(
    () => true,
    () => false,
  );
  try {
    await fs.access(fileExists ? bind.output : dir, constants.W_OK);
    add(
      'output',
      !(bind.mode === 'block' && !fileExists),
      bind.mode === 'block' && !fileExists
        ? `${bind.output} does not exist (block mode edits an existing file)`
        : `${bind.output}: writable${fileExists ? '' : ' (file not there yet)'}`,
    );
  } catch (err) {
    add(
      'output',
      false,
      `${fileExists ? bind.output : dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'not writable'}`,
    );
  }
  if (path.resolve(bind.named_conf) !== path.resolve(bind.output)) {
    const inc = await includesFile(bind.checkconf, bind.output).catch(() => false);
    add(
      'include',
      inc,
      inc ? `${bind.named_conf} includes ${bind.output}` : `${bind.named_conf} does not include ${bind.output}`,
    );
  }
  const cc = await runCommand(bind.checkconf, bind.command_timeout, path.dirname(path.resolve(bind.named_conf)));
  add('checkconf', cc.ok, cc.ok ? `${cc.command}: live configuration passes` : `${cc.command}: ${cc.output}`);
  const probe = reloadProbe(bind.reload);
  const r = await runCommand(probe.argv, bind.command_timeout);
  add('reload', r.ok, r.ok ? probe.describe : `${r.command}: ${r.output}`);
  return checks;
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
