// `render`: the dns64 text that would be written now.
import type { Argv } from 'yargs';
import { renderStatic } from '../../render/render.js';
import { oneRound } from './check.js';
import { EXIT, finish, loadDiscovered, stdio, type Builder, type Common, type Io } from '../common.js';

export async function render(argv: Common & { static?: boolean }, io: Io = stdio): Promise<number> {
  const { config } = await loadDiscovered(argv);
  if (argv.static) {
    io.out(renderStatic(config));
    return EXIT.ok;
  }
  io.out((await oneRound(config)).d.rendered);
  return EXIT.ok;
}

/** `render` in the program */
export function renderCommand(y: Argv): Argv {
  return y.command(
    'render',
    'print the dns64 text that would be written now',
    ((y: Argv) =>
      y.option('static', {
        type: 'boolean',
        describe: 'every configured prefix, no probing (a plain static configuration)',
      })) as Builder,
    (a: unknown) => finish(render(a as never)),
  );
}
