// What every command shares: exit statuses, the error that ends a command, loading the config,
// and where output goes (a test hands in its own).
import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import { loadConfig, type Config } from '../config/load.js';
import { Discovery } from '../discover/discover.js';
import { DEFAULT_CONFIG_PATH } from '../lib/paths.js';
import { createLogger, stderrWriter, type LogLevel } from '../lib/log.js';
import { useColor } from '../observe/status-table.js';

/** Messages on stderr: under systemd each line carries its priority for the journal (see log.ts). */
export const stderr = stderrWriter();

/** `busy`: EX_TEMPFAIL, another daemon holds the files (systemd's Restart= tries again later) */
export const EXIT = { ok: 0, some: 1, none: 2, noState: 3, usage: 64, dataErr: 65, busy: 75, config: 78 } as const;

/** Ends a command with a message on stderr and an exit status. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface Common {
  config?: string;
  'log-format': 'text' | 'json';
  'log-level': LogLevel;
}

/** Where a command writes: stdout for the program, a buffer for a test. */
export interface Io {
  out(text: string): void;
  /** whether tables may use color */
  color: boolean;
}

export const stdio: Io = {
  out: (text) => void process.stdout.write(text),
  get color() {
    return useColor(process.stdout);
  },
};

/** --config, else the default path if it exists, else the embedded default (null). */
function configPath(argv: Common): string | null {
  if (argv.config) return argv.config;
  return existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : null;
}

export function load(argv: Common): { path: string | null; config: Config } {
  const path = configPath(argv);
  return { path, config: loadConfig(path) };
}

/** The config with its discovered prefixes (RFC 7050), asked once; what goes wrong is said on stderr. */
export async function loadDiscovered(argv: Common): Promise<{ path: string | null; config: Config }> {
  const { path, config } = load(argv);
  if (config.discover.length === 0) return { path, config };
  const discovery = new Discovery(createLogger({ format: argv['log-format'], level: argv['log-level'] }));
  await discovery.refresh(config.discover);
  return { path, config: discovery.apply(config) };
}

// Builders are typed loosely (Argv in, Argv out); each handler reads its arguments as its own type.
export type Builder = (y: Argv) => Argv;
export const withJson: Builder = (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output' });

/** A handler's exit status becomes the process's. */
export async function finish(p: Promise<number> | number): Promise<void> {
  process.exitCode = await p;
}
