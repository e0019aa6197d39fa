// `targets:` in the config: the BIND servers that serve the selected prefix set. The local one
// (configured by the top-level `bind:`) and remote ones reached over SSH, each with its own paths
// and commands on that host. Every target gets the same rendered text.
import path from 'node:path';
import * as z from 'zod';
import { parseCheckconf } from './checkconf-args.js';
import {
  bindFields,
  DEFAULT_OUTPUT,
  duration,
  label,
  resolveVerify,
  verify,
  type VerifySettings,
} from './schema-types.js';

const absolute = z.string().startsWith('/', 'a path on the remote host must be absolute');

// No option-like values: they would reach ssh2 only, but keep them obviously plain.
const host = z
  .string()
  .regex(/^(\[?[0-9A-Fa-f:.]+\]?|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/, 'expected a host name or an IP address');
const user = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'expected a user name');

const sshSettings = z.strictObject({
  host,
  port: z.number().int().min(1).max(65535).default(22),
  user,
  private_key: z.string().min(1),
  known_hosts: z.string().min(1),
  /** connect (handshake and authentication) and each file transfer */
  timeout: duration.default(10_000),
  /** SSH keep-alive interval; the connection is dropped after 3 unanswered ones (0: off) */
  keepalive: duration.default(15_000),
});

const notHere = (key: string) =>
  z.never({ error: `${key} comes from the top-level bind: (every target serves the same rendered text)` }).optional();

const remoteBind = z.strictObject({
  ...bindFields,
  output: absolute.optional(),
  /** default: the SSH host, port 53 */
  verify,
  template: notHere('template'),
  dns64: notHere('dns64'),
});

const targetEntry = z
  .strictObject({
    name: label,
    ssh: sshSettings.optional(),
    bind: remoteBind.optional(),
  })
  .superRefine((t, ctx) => {
    if (t.ssh) {
      if (t.name === 'local')
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message: '"local" names the local BIND; give the SSH target another name',
        });
      if (!t.bind)
        ctx.addIssue({
          code: 'custom',
          path: ['bind'],
          message: 'a target reached over ssh needs its own bind: (output, checkconf and reload on that host)',
        });
    } else {
      if (t.name !== 'local')
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message:
            'a target without ssh: is the local BIND (top-level bind:) and must be named "local"; ' +
            'add ssh: to manage a remote one',
        });
      if (t.bind)
        ctx.addIssue({
          code: 'custom',
          path: ['bind'],
          message: 'the local BIND is configured by the top-level bind:, not here',
        });
    }
  });

export const targetsSchema = z
  .array(targetEntry)
  .min(1, 'list at least one target (or leave targets: out to manage only the local BIND)')
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((t, i) => {
      const first = seen.get(t.name);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `target name "${t.name}" is already used by targets[${first}]`,
        });
      else seen.set(t.name, i);
    });
    list.forEach((t, i) => {
      if (!t.bind) return;
      const args = parseCheckconf(t.bind.checkconf);
      for (const p of [args.namedConf, args.chroot ?? '/']) {
        if (p.startsWith('/')) continue;
        const label = p === args.namedConf ? 'named.conf' : 'the -t directory';
        ctx.addIssue({
          code: 'custom',
          path: [i, 'bind', 'checkconf'],
          message: `${label} "${p}" must be an absolute path on the remote host`,
        });
      }
    });
  })
  .optional();

export type RawTargets = z.output<typeof targetsSchema>;

export interface SshSettings {
  host: string;
  port: number;
  user: string;
  /** local files, resolved against the config file's directory */
  private_key: string;
  known_hosts: string;
  timeout: number;
  keepalive: number;
}

export interface RemoteBind {
  mode: 'include' | 'block';
  output: string;
  checkconf: string[];
  reload: string[];
  command_timeout: number;
  named_conf: string;
  verify: VerifySettings | null;
}

export type TargetConfig =
  { name: 'local'; kind: 'local' } | { name: string; kind: 'ssh'; ssh: SshSettings; bind: RemoteBind };

export const DEFAULT_TARGETS: TargetConfig[] = [{ name: 'local', kind: 'local' }];

/** `poolNames`: the configured client pools, in config order (see resolveVerify) */
export function resolveTargets(raw: RawTargets, baseDir: string, poolNames: readonly string[] = []): TargetConfig[] {
  if (raw === undefined) return DEFAULT_TARGETS;
  return raw.map((t): TargetConfig => {
    if (!t.ssh || !t.bind) return { name: 'local', kind: 'local' };
    const { template: _t, dns64: _d, verify, ...bind } = t.bind;
    return {
      name: t.name,
      kind: 'ssh',
      ssh: {
        ...t.ssh,
        private_key: path.resolve(baseDir, t.ssh.private_key),
        known_hosts: path.resolve(baseDir, t.ssh.known_hosts),
      },
      bind: {
        ...bind,
        output: bind.output ?? DEFAULT_OUTPUT[bind.mode],
        named_conf: parseCheckconf(bind.checkconf).namedConf,
        verify: resolveVerify(verify, t.ssh.host.replace(/^\[(.*)\]$/, '$1'), poolNames),
      },
    };
  });
}
