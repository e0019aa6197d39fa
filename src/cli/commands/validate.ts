// `validate`: the config and template, and with --bind the rendered text against named.conf.
import type { Argv } from 'yargs';
import { localTarget } from '../../apply/fleet.js';
import { renderStatic } from '../../render/render.js';
import {
  stderr,
  CliError,
  EXIT,
  finish,
  loadDiscovered,
  stdio,
  type Builder,
  type Common,
  type Io,
} from '../common.js';

export async function validate(argv: Common & { bind?: boolean }, io: Io = stdio): Promise<number> {
  const { path, config } = await loadDiscovered(argv);
  for (const w of config.warnings) stderr('warn', `warning: ${w}`);
  const found = config.prefixes.filter((p) => p.discovered !== undefined).length;
  const discovered = config.discover.length
    ? ` (${found} discovered from ${config.discover.length} source${config.discover.length === 1 ? '' : 's'})`
    : '';
  const counts = `${config.prefixes.length} prefixes${discovered}, ${config.probes.length} probe targets`;
  const out: string[] = [
    `${path ?? '(embedded default)'}: configuration is valid (${counts})`,
    `template ${config.template.file}: OK`,
  ];
  if (argv.bind) {
    // Read-only checks against BIND's files: the static render must pass named-checkconf.
    const target = localTarget(config.bind);
    const rendered = renderStatic(config);
    if (config.bind.mode === 'include' && !(await target.includes(config.bind.output))) {
      const { named_conf, output } = config.bind;
      const fix = `add \`include "${output}";\` inside options { }`;
      throw new CliError(`${named_conf} does not include ${output}: ${fix}`, EXIT.config);
    }
    const r = await target.validate(rendered);
    if (!r.ok) throw new CliError(`named-checkconf rejects the rendered configuration: ${r.output}`, EXIT.config);
    const what = config.bind.mode === 'include' ? 'include file' : 'managed block';
    out.push(`${config.bind.named_conf}: named-checkconf accepts the rendered ${what}`);
  }
  io.out(out.join('\n') + '\n');
  return EXIT.ok;
}

/** `validate` in the program */
export function validateCommand(y: Argv): Argv {
  return y.command(
    'validate',
    'check the config and template (exit 78 on errors)',
    ((y: Argv) =>
      y.option('bind', {
        type: 'boolean',
        describe: "also check the rendered text against BIND's named.conf with named-checkconf",
      })) as Builder,
    (a: unknown) => finish(validate(a as never)),
  );
}
